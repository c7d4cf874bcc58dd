//! The console's admin pages.

use crate::console::Page;

pub const PAGES: &[Page] = &[];
