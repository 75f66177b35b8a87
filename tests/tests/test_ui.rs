//! Compile errors of `#[derive(TypedId)]`, checked against the `.stderr` files beside
//! each case, and programs that must compile and run (`ui/pass`). Regenerate with `TRYBUILD=overwrite cargo test -p typed-id-tests --test test_ui`
//! (the toolchain is fixed, so the messages are stable).

#[test]
fn derive_compile_errors() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/derive/*.rs");
    cases.pass("ui/pass/*.rs");
}
