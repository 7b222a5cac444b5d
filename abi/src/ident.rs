//! Checked identifiers: the only user text that may reach generated Verilog, C++ or Tcl.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A plain identifier `[A-Za-z_][A-Za-z0-9_]*`, at most 64 characters, not a reserved word of
/// Verilog, SystemVerilog, C++ or Tcl that would break generated text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(try_from = "String", into = "String")]
pub struct Ident(String);

/// The longest identifier accepted.
pub const MAX_IDENT_LEN: usize = 64;

const RESERVED: &[&str] = &[
    "always",
    "and",
    "assign",
    "begin",
    "buf",
    "case",
    "casex",
    "casez",
    "default",
    "defparam",
    "disable",
    "else",
    "end",
    "endcase",
    "endfunction",
    "endgenerate",
    "endmodule",
    "endtask",
    "event",
    "for",
    "force",
    "forever",
    "fork",
    "function",
    "generate",
    "genvar",
    "if",
    "initial",
    "inout",
    "input",
    "integer",
    "join",
    "localparam",
    "module",
    "nand",
    "negedge",
    "nor",
    "not",
    "or",
    "output",
    "parameter",
    "posedge",
    "real",
    "reg",
    "release",
    "repeat",
    "signed",
    "task",
    "time",
    "tri",
    "wait",
    "while",
    "wire",
    "xor",
    "xnor",
    "logic",
    "bit",
    "byte",
    "int",
    "class",
    "const",
    "return",
    "void",
    "struct",
    "union",
    "enum",
    "static",
    "auto",
    "break",
    "continue",
    "do",
    "double",
    "float",
    "long",
    "short",
    "unsigned",
    "char",
    "switch",
    "goto",
    "sizeof",
    "typedef",
    "extern",
    "volatile",
    "register",
    "namespace",
    "template",
    "this",
    "new",
    "delete",
    "proc",
    "set",
    "puts",
    "expr",
];

impl Ident {
    /// Check `s`; the error says which rule it breaks.
    pub fn new(s: &str) -> Result<Ident, String> {
        let mut chars = s.chars();
        let Some(first) = chars.next() else {
            return Err("must not be empty".into());
        };
        if !(first.is_ascii_alphabetic() || first == '_') {
            return Err(format!(
                "`{}` is not an identifier: must start with a letter or `_` ([A-Za-z_][A-Za-z0-9_]*)",
                s.escape_debug()
            ));
        }
        if let Some(bad) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
        {
            return Err(format!(
                "`{}` is not an identifier: character `{}` not allowed ([A-Za-z_][A-Za-z0-9_]*)",
                s.escape_debug(),
                bad.escape_debug()
            ));
        }
        if s.len() > MAX_IDENT_LEN {
            return Err(format!(
                "`{s}` is {} characters long; the limit is {MAX_IDENT_LEN}",
                s.len()
            ));
        }
        if RESERVED.contains(&s.to_ascii_lowercase().as_str()) {
            return Err(format!("`{s}` is a reserved word in generated code"));
        }
        Ok(Ident(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Ident {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Ident::new(&s)
    }
}

impl From<Ident> for String {
    fn from(i: Ident) -> String {
        i.0
    }
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_identifiers() {
        for s in ["fc1", "_x", "jet70", "A_b_9"] {
            assert!(Ident::new(s).is_ok(), "{s}");
        }
    }

    #[test]
    fn rejects_injection_and_junk() {
        for s in [
            "fc1; initial $finish",
            "",
            "1abc",
            "a-b",
            "a b",
            "module",
            "é",
            "a\nb",
        ] {
            assert!(Ident::new(s).is_err(), "{s:?}");
        }
        assert!(Ident::new(&"a".repeat(65)).is_err());
    }
}
