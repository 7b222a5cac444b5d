//! placeholder: the array reader (filled in by its own change)
