//! The fuzz targets' entry functions, one per target (see `entries`). The targets in
//! `fuzz_targets/` are one-line wrappers, so the root test suite can replay the corpus
//! through exactly the same code without a fuzzer.

pub mod entries;
