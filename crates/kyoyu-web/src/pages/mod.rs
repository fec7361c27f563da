pub mod admin;
pub mod advisories;
pub mod home;
pub mod login;
pub mod print;
pub mod report_form;
pub mod reports;
pub mod statistics;
