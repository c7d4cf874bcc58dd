//! The console's projects pages.

use crate::console::Page;

pub const PAGES: &[Page] = &[];
