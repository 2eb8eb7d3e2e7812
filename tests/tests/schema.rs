//! `schema.graphql` at the repository root is what `spaces export-schema` writes.

#[test]
fn schema_graphql_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.graphql");
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    let now = spaces_graphql::sdl();
    assert!(
        on_disk == now,
        "schema.graphql is stale: run `cargo run -p spaces-gateway -- export-schema`"
    );
}
