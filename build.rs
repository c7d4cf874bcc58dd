//! `embed_migrations!` does not notice a newly added migration folder by itself.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=assets");
}
