//! The domain of kyoyu (domain.md §2-§7): codes, the report form, its validation, TLP
//! ordering, identifier formats and the scrubbing of identifying strings.
//!
//! Nothing here touches storage or HTTP; the access rule lives in `kyoyu-policy`.

pub mod advisory;
pub mod anonymise;
pub mod attachment;
pub mod codes;
pub mod error;
pub mod identifier;
pub mod partner;
pub mod reference;
pub mod report;
pub mod service_level;
pub mod tlp;

pub use error::{FieldError, ValidationErrors};

/// A form whose free-text fields can all be visited with their JSON paths, so that
/// anonymisation, sanitisation, search and the length limit cover the whole form and a new
/// field cannot be forgotten in one of them.
pub trait FreeText: Clone {
    fn for_each_text_mut(&mut self, f: impl FnMut(&str, &mut String));

    /// Lower-cased text of the whole form, for free-text search.
    fn search_text(&self) -> String {
        let mut out = String::new();
        self.clone().for_each_text_mut(|_, t| {
            out.push_str(&t.to_lowercase());
            out.push('\n');
        });
        out
    }

    /// Names every free-text field longer than [`report::MAX_TEXT`] characters.
    fn check_text_lengths(&self, errors: &mut ValidationErrors) {
        use report::MAX_TEXT;
        self.clone().for_each_text_mut(|field, text| {
            if text.chars().count() > MAX_TEXT {
                errors.push(FieldError::new(
                    field,
                    format!("{MAX_TEXT}文字を超えています"),
                    format!("is longer than {MAX_TEXT} characters"),
                ));
            }
        });
    }
}
pub use tlp::Tlp;
