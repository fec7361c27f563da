//! The domain of kyoyu (domain.md §2-§7): codes, the report form, its validation, TLP
//! ordering, identifier formats and the scrubbing of identifying strings.
//!
//! Nothing here touches storage or HTTP; the access rule lives in `kyoyu-policy`.

pub mod advisory;
pub mod anonymise;
pub mod codes;
pub mod error;
pub mod identifier;
pub mod reference;
pub mod report;
pub mod service_level;
pub mod tlp;

pub use error::{FieldError, ValidationErrors};
pub use tlp::Tlp;
