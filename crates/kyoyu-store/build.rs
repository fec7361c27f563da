// `sqlx::migrate!` embeds the migrations at compile time but, on stable Rust, cannot tell
// Cargo to rebuild when one is added; this does (as sqlx's documentation advises).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
