//! The console's members pages.

use crate::console::Page;

pub const PAGES: &[Page] = &[];
