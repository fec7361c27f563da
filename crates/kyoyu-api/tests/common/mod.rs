//! The shared demo fixtures (see `kyoyu_test_support::demo`).
#![allow(dead_code, unused_imports)]

pub use kyoyu_test_support::demo::*;
pub use kyoyu_test_support::python_with;
