//! `uniffi-bindgen`, at exactly the uniffi version `poscore-ffi` uses (a mismatch gives
//! "contract version mismatch" at run time). Used by `uniffi/generate-kotlin.sh`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
