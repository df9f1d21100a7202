//! A problem in a rule pack, located by its TOML span: file, byte range, line and column, what is
//! wrong, and a help line (usually a did-you-mean).

use std::ops::Range;

/// A problem in a rule file or `pack.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// file, relative to the pack
    pub path: String,
    /// byte range in the file the problem is about (from the TOML parser's spans)
    pub span: Range<usize>,
    /// 1-based line of the span's start
    pub line: usize,
    /// 1-based column (in characters) of the span's start
    pub col: usize,
    /// what is wrong, in the rule language's words
    pub message: String,
    /// how to fix it, where there is a suggestion
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic at `span` of `src` (the file's text).
    pub fn at(path: &str, src: &str, span: Range<usize>, message: impl Into<String>) -> Self {
        let (line, col) = line_col(src, span.start);
        Diagnostic {
            path: path.to_string(),
            span,
            line,
            col,
            message: message.into(),
            help: None,
        }
    }

    /// The same diagnostic with a help line.
    pub fn with_help(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: error: {}",
            self.path, self.line, self.col, self.message
        )?;
        if let Some(h) = &self.help {
            write!(f, "\n  help: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// `did you mean `x`?` for the candidate nearest `wanted`, if one is a plausible typo.
pub fn did_you_mean<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    crate::suggest(wanted, candidates).map(|s| format!("did you mean `{s}`?"))
}

/// 1-based line and character column of byte `offset` in `src`.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let mut at = offset.min(src.len());
    while !src.is_char_boundary(at) {
        at -= 1;
    }
    let before = &src[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Where the text of a TOML string value starts, given the span of the value (which includes its
/// quotes): after `"`, `'`, or `"""`/`'''` and the newline that may follow them.
pub fn string_start(src: &str, span: &Range<usize>) -> usize {
    let v = src.get(span.clone()).unwrap_or("");
    for q in ["\"\"\"", "'''"] {
        if let Some(rest) = v.strip_prefix(q) {
            let nl = if rest.starts_with("\r\n") {
                2
            } else {
                usize::from(rest.starts_with('\n'))
            };
            return span.start + 3 + nl;
        }
    }
    if v.starts_with('"') || v.starts_with('\'') {
        span.start + 1
    } else {
        span.start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_values_start_after_their_quotes() {
        let src = "a = \"x\"\nb = \"\"\"\nyz\"\"\"\nc = 'q'\n";
        let a = src.find("\"x").unwrap();
        assert_eq!(string_start(src, &(a..a + 3)), a + 1);
        let b = src.find("\"\"\"").unwrap();
        assert_eq!(&src[string_start(src, &(b..b + 9))..][..2], "yz");
        let c = src.find("'q").unwrap();
        assert_eq!(string_start(src, &(c..c + 3)), c + 1);
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let src = "title = \"重复\"\nx = 1\n";
        assert_eq!(line_col(src, src.find('x').unwrap()), (2, 1));
        assert_eq!(line_col(src, src.find('复').unwrap()), (1, 11));
    }

    #[test]
    fn the_help_line_prints_under_the_error() {
        let d = Diagnostic::at("claims/CL-01-x.toml", "a = 1\n", 4..5, "bad")
            .with_help(Some("did you mean `b`?".into()));
        assert_eq!(
            d.to_string(),
            "claims/CL-01-x.toml:1:5: error: bad\n  help: did you mean `b`?"
        );
    }
}
