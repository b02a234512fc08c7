//! No native object outlives its owner: alone in its own test binary, so the process-wide
//! count of live terminals is not disturbed by other tests.

use poscore_ffi::{
    PosTerminal, SoftwareKeyProvider, SoftwarePrinter, default_config, live_terminal_count,
};

#[test]
fn dropping_a_terminal_shuts_it_down_and_frees_it() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(live_terminal_count(), 0);
    let keys = SoftwareKeyProvider::new(vec![5; 32], vec![0x11; 8]).unwrap();
    let terminal = PosTerminal::open(
        default_config(),
        dir.path().join("j.db").display().to_string(),
        keys,
        SoftwarePrinter::new(),
        None,
    )
    .unwrap();
    assert_eq!(live_terminal_count(), 1);
    assert!(terminal.is_open());
    terminal.shutdown();
    terminal.shutdown(); // idempotent
    assert_eq!(live_terminal_count(), 1, "shut down but still referenced");
    drop(terminal);
    assert_eq!(live_terminal_count(), 0);
    // The journal was released: it opens again at once.
    let keys = SoftwareKeyProvider::new(vec![5; 32], vec![0x11; 8]).unwrap();
    let again = PosTerminal::open(
        default_config(),
        dir.path().join("j.db").display().to_string(),
        keys,
        SoftwarePrinter::new(),
        None,
    );
    assert!(again.is_ok());
    drop(again);
    assert_eq!(live_terminal_count(), 0);
}
