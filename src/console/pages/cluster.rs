//! The console's cluster pages.

use crate::console::Page;

pub const PAGES: &[Page] = &[];
