"""The instructor's side: stubs and notebook from the reference, assign, verify, release."""
