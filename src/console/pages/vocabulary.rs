//! The console's vocabulary pages.

use crate::console::Page;

pub const PAGES: &[Page] = &[];
