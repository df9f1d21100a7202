//! The filter-expression language of rule files: parsed, type-checked against a view's schema and
//! lowered to a polars [`Expr`]. It cannot run code: only the operators and functions below exist.
//!
//! ```text
//! expr    := or
//! or      := and ("or" and)*
//! and     := not ("and" not)*
//! not     := "not" not | cmp
//! cmp     := add (("==" | "!=" | "<" | "<=" | ">" | ">=") add)?
//! add     := mul (("+" | "-") mul)*
//! mul     := unary (("*" | "/") unary)*
//! unary   := "-" unary | primary
//! primary := number | 'string' | "string" | $param | column | func "(" args ")" | "(" expr ")"
//!          | "[" literal ("," literal)* "]"
//! ```
//!
//! Functions: `is_null(x)`, `not_null(x)`, `in(x, [..])`, `days(a, b)` (a − b in whole days, for
//! dates or datetimes), `year(d)`, `date('YYYY-MM-DD')`, `coalesce(a, b)`, `abs(x)`,
//! `min(a, b)`, `max(a, b)`, `if(c, a, b)` (a where the condition c holds, else b; a null
//! condition gives b), `add_months(d, n)` (the date n calendar months after d, the day clamped
//! to the month's end; n a whole number or an integer `$param`).
//! Money columns are integer fen; `yuan(x)` turns a yuan literal into fen.

use std::collections::BTreeMap;

use polars::prelude::*;

/// A value type of the language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// boolean
    Bool,
    /// integer (counts, fen)
    Int,
    /// decimal
    Float,
    /// text
    Str,
    /// date
    Date,
    /// datetime
    Datetime,
    /// a literal list
    List,
    /// null literal
    Null,
}

impl Ty {
    /// The language type of a polars dtype.
    pub fn of(dt: &DataType) -> Option<Ty> {
        Some(match dt {
            DataType::Boolean => Ty::Bool,
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64 => Ty::Int,
            DataType::Float32 | DataType::Float64 => Ty::Float,
            DataType::String => Ty::Str,
            DataType::Date => Ty::Date,
            DataType::Datetime(_, _) => Ty::Datetime,
            _ => return None,
        })
    }
    fn numeric(self) -> bool {
        matches!(self, Ty::Int | Ty::Float | Ty::Null)
    }
}

/// Types print in the rule language's words, not Rust's.
impl std::fmt::Display for Ty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Ty::Bool => "a condition (true or false)",
            Ty::Int => "a whole number",
            Ty::Float => "a number",
            Ty::Str => "text",
            Ty::Date => "a date",
            Ty::Datetime => "a date and time",
            Ty::List => "a list",
            Ty::Null => "null",
        })
    }
}

/// A parse or type error at a byte offset of the expression.
#[derive(Debug, Clone, PartialEq)]
pub struct ExprError {
    /// byte offset in the expression text
    pub offset: usize,
    /// what is wrong
    pub message: String,
    /// a did-you-mean, where there is one
    pub help: Option<String>,
}

fn err<T>(offset: usize, message: impl Into<String>) -> Result<T, ExprError> {
    Err(ExprError {
        offset,
        message: message.into(),
        help: None,
    })
}

fn err_help<T>(
    offset: usize,
    message: impl Into<String>,
    help: Option<String>,
) -> Result<T, ExprError> {
    Err(ExprError {
        offset,
        message: message.into(),
        help,
    })
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64, bool),
    Str(String),
    Ident(String),
    Param(String),
    Op(&'static str),
    End,
}

fn lex(src: &str) -> Result<Vec<(Tok, usize)>, ExprError> {
    let b = src.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.' || b[i] == b'_') {
                i += 1;
            }
            let text: String = src[start..i].chars().filter(|c| *c != '_').collect();
            let is_int = !text.contains('.');
            let v: f64 = text.parse().map_err(|_| ExprError {
                offset: start,
                message: format!("bad number `{text}`"),
                help: None,
            })?;
            out.push((Tok::Num(v, is_int), start));
            continue;
        }
        if c == b'\'' || c == b'"' {
            i += 1;
            while i < b.len() && b[i] != c {
                i += 1;
            }
            if i >= b.len() {
                return err(start, "unterminated string");
            }
            out.push((Tok::Str(src[start + 1..i].to_string()), start));
            i += 1;
            continue;
        }
        if c == b'$' || c.is_ascii_alphabetic() || c == b'_' {
            i += 1;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let word = &src[start..i];
            out.push((
                if let Some(p) = word.strip_prefix('$') {
                    Tok::Param(p.to_string())
                } else {
                    Tok::Ident(word.to_string())
                },
                start,
            ));
            continue;
        }
        let two = src.get(i..i + 2).unwrap_or("");
        let op: &'static str = match two {
            "==" => "==",
            "!=" => "!=",
            "<=" => "<=",
            ">=" => ">=",
            _ => match c {
                b'<' => "<",
                b'>' => ">",
                b'+' => "+",
                b'-' => "-",
                b'*' => "*",
                b'/' => "/",
                b'(' => "(",
                b')' => ")",
                b'[' => "[",
                b']' => "]",
                b',' => ",",
                _ => {
                    return err(
                        start,
                        format!(
                            "unexpected character `{}`",
                            src[start..].chars().next().unwrap_or('?')
                        ),
                    );
                }
            },
        };
        i += op.len();
        out.push((Tok::Op(op), start));
    }
    out.push((Tok::End, src.len()));
    Ok(out)
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Ast {
    /// number literal (value, written as an integer)
    Num(f64, bool),
    /// string literal
    Str(String),
    /// `$param`
    Param(String, usize),
    /// column reference
    Col(String, usize),
    /// list literal
    List(Vec<Ast>),
    /// unary minus
    Neg(Box<Ast>),
    /// not
    Not(Box<Ast>),
    /// binary operator
    Bin(&'static str, Box<Ast>, Box<Ast>, usize),
    /// function call
    Call(String, Vec<Ast>, usize),
    /// boolean literal
    Bool(bool),
    /// null literal
    Null,
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    /// how deeply the parse is nested now (brackets, calls, `not` and `-` chains)
    depth: usize,
}

/// How deeply an expression may nest: far beyond any rule, and a bound on the parser's, the
/// checker's and the lowering's recursion (a stack overflow is an abort, not an error). Each
/// bracket, call, `not` or `-`, and each further operand of a chain such as `a and b and c`
/// (which builds a tree as deep as it is long), is one level.
pub const MAX_DEPTH: usize = 64;

/// How many polars nodes an expression may lower to. `min` and `max` lower to
/// `when(a <= b).then(a).otherwise(b)`, which holds each argument twice: nested, they double per
/// level, so a short text could ask for billions of nodes.
pub const MAX_LOWERED: u64 = 100_000;

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].0
    }
    fn at(&self) -> usize {
        self.toks[self.pos].1
    }
    fn bump(&mut self) -> Tok {
        let t = self.toks[self.pos].0.clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }
    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Tok::Ident(x) if x == w)
    }
    fn expect(&mut self, op: &str) -> Result<(), ExprError> {
        if self.peek()
            == &Tok::Op(match op {
                "(" => "(",
                ")" => ")",
                "]" => "]",
                _ => ",",
            })
        {
            self.bump();
            Ok(())
        } else {
            err(self.at(), format!("expected `{op}`"))
        }
    }
    /// One level deeper, or an error past [`MAX_DEPTH`].
    fn enter(&mut self) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err(
                self.at(),
                format!("the expression nests more than {MAX_DEPTH} levels deep"),
            );
        }
        Ok(())
    }
    fn or(&mut self) -> Result<Ast, ExprError> {
        self.enter()?;
        let r = self.or_inner();
        self.depth -= 1;
        r
    }
    fn or_inner(&mut self) -> Result<Ast, ExprError> {
        let mut l = self.and()?;
        let mut chain = 0;
        while self.is_word("or") {
            let at = self.at();
            self.bump();
            self.enter()?;
            chain += 1;
            let r = self.and()?;
            l = Ast::Bin("or", Box::new(l), Box::new(r), at);
        }
        self.depth -= chain;
        Ok(l)
    }
    fn and(&mut self) -> Result<Ast, ExprError> {
        let mut l = self.not()?;
        let mut chain = 0;
        while self.is_word("and") {
            let at = self.at();
            self.bump();
            self.enter()?;
            chain += 1;
            let r = self.not()?;
            l = Ast::Bin("and", Box::new(l), Box::new(r), at);
        }
        self.depth -= chain;
        Ok(l)
    }
    fn not(&mut self) -> Result<Ast, ExprError> {
        if self.is_word("not") {
            self.bump();
            self.enter()?;
            let e = self.not();
            self.depth -= 1;
            return Ok(Ast::Not(Box::new(e?)));
        }
        self.cmp()
    }
    fn cmp(&mut self) -> Result<Ast, ExprError> {
        let l = self.add()?;
        if let Tok::Op(op @ ("==" | "!=" | "<" | "<=" | ">" | ">=")) = self.peek().clone() {
            let at = self.at();
            self.bump();
            let r = self.add()?;
            return Ok(Ast::Bin(op, Box::new(l), Box::new(r), at));
        }
        Ok(l)
    }
    fn add(&mut self) -> Result<Ast, ExprError> {
        let mut l = self.mul()?;
        let mut chain = 0;
        while let Tok::Op(op @ ("+" | "-")) = self.peek().clone() {
            let at = self.at();
            self.bump();
            self.enter()?;
            chain += 1;
            let r = self.mul()?;
            l = Ast::Bin(op, Box::new(l), Box::new(r), at);
        }
        self.depth -= chain;
        Ok(l)
    }
    fn mul(&mut self) -> Result<Ast, ExprError> {
        let mut l = self.unary()?;
        let mut chain = 0;
        while let Tok::Op(op @ ("*" | "/")) = self.peek().clone() {
            let at = self.at();
            self.bump();
            self.enter()?;
            chain += 1;
            let r = self.unary()?;
            l = Ast::Bin(op, Box::new(l), Box::new(r), at);
        }
        self.depth -= chain;
        Ok(l)
    }
    fn unary(&mut self) -> Result<Ast, ExprError> {
        if self.peek() == &Tok::Op("-") {
            self.bump();
            self.enter()?;
            let e = self.unary();
            self.depth -= 1;
            return Ok(Ast::Neg(Box::new(e?)));
        }
        self.primary()
    }
    fn primary(&mut self) -> Result<Ast, ExprError> {
        let at = self.at();
        match self.bump() {
            Tok::Num(v, i) => Ok(Ast::Num(v, i)),
            Tok::Str(s) => Ok(Ast::Str(s)),
            Tok::Param(p) => Ok(Ast::Param(p, at)),
            Tok::Ident(w) if w == "true" => Ok(Ast::Bool(true)),
            Tok::Ident(w) if w == "false" => Ok(Ast::Bool(false)),
            Tok::Ident(w) if w == "null" => Ok(Ast::Null),
            Tok::Ident(w) => {
                if self.peek() == &Tok::Op("(") {
                    self.bump();
                    let mut args = Vec::new();
                    if self.peek() != &Tok::Op(")") {
                        loop {
                            args.push(self.or()?);
                            if self.peek() == &Tok::Op(",") {
                                self.bump();
                            } else {
                                break;
                            }
                        }
                    }
                    self.expect(")")?;
                    Ok(Ast::Call(w, args, at))
                } else {
                    Ok(Ast::Col(w, at))
                }
            }
            Tok::Op("(") => {
                let e = self.or()?;
                self.expect(")")?;
                Ok(e)
            }
            Tok::Op("[") => {
                let mut items = Vec::new();
                loop {
                    self.enter()?;
                    let item = self.primary();
                    self.depth -= 1;
                    items.push(item?);
                    if self.peek() == &Tok::Op(",") {
                        self.bump();
                    } else {
                        break;
                    }
                }
                self.expect("]")?;
                Ok(Ast::List(items))
            }
            Tok::End => err(at, "unexpected end of expression"),
            t => err(
                at,
                format!(
                    "unexpected `{}`",
                    match t {
                        Tok::Op(o) => o.to_string(),
                        _ => "token".into(),
                    }
                ),
            ),
        }
    }
}

/// Parses an expression.
pub fn parse(src: &str) -> Result<Ast, ExprError> {
    let mut p = Parser {
        toks: lex(src)?,
        pos: 0,
        depth: 0,
    };
    let e = p.or()?;
    if p.peek() != &Tok::End {
        return err(p.at(), "unexpected text after the expression");
    }
    if lowered_size(&e) > MAX_LOWERED {
        return err(
            0,
            format!(
                "the expression would lower to more than {MAX_LOWERED} nodes (nested `min` and `max` double their arguments per level)"
            ),
        );
    }
    Ok(e)
}

/// How many polars nodes `ast` lowers to, about (saturating).
fn lowered_size(ast: &Ast) -> u64 {
    match ast {
        Ast::Neg(e) | Ast::Not(e) => lowered_size(e).saturating_add(1),
        Ast::Bin(_, l, r, _) => lowered_size(l)
            .saturating_add(lowered_size(r))
            .saturating_add(1),
        Ast::List(items) => items.len() as u64 + 1,
        Ast::Call(f, args, _) => {
            let inner = args
                .iter()
                .map(lowered_size)
                .fold(1u64, u64::saturating_add);
            if matches!(f.as_str(), "min" | "max") {
                inner.saturating_mul(2)
            } else {
                inner.saturating_add(2)
            }
        }
        _ => 1,
    }
}

/// What names mean when an expression is checked and lowered.
pub struct Scope<'a> {
    /// the view's columns and their types
    pub columns: &'a BTreeMap<String, Ty>,
    /// the rule's parameters
    pub params: &'a BTreeMap<String, ParamValue>,
}

/// A parameter value.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum ParamValue {
    /// integer
    Int(i64),
    /// decimal
    Float(f64),
    /// text
    Str(String),
    /// boolean
    Bool(bool),
    /// list of text
    List(Vec<String>),
}

impl ParamValue {
    /// The language type of the parameter.
    pub fn ty(&self) -> Ty {
        match self {
            ParamValue::Int(_) => Ty::Int,
            ParamValue::Float(_) => Ty::Float,
            ParamValue::Str(_) => Ty::Str,
            ParamValue::Bool(_) => Ty::Bool,
            ParamValue::List(_) => Ty::List,
        }
    }
    fn lit(&self) -> Expr {
        match self {
            ParamValue::Int(v) => lit(*v),
            ParamValue::Float(v) => lit(*v),
            ParamValue::Str(s) => lit(s.clone()),
            ParamValue::Bool(b) => lit(*b),
            ParamValue::List(v) => lit(Series::new("list".into(), v.clone())).implode(false),
        }
    }
    /// The value as text for docs.
    pub fn show(&self) -> String {
        match self {
            ParamValue::Int(v) => v.to_string(),
            ParamValue::Float(v) => v.to_string(),
            ParamValue::Str(s) => format!("'{s}'"),
            ParamValue::Bool(b) => b.to_string(),
            ParamValue::List(v) => format!(
                "[{}]",
                v.iter()
                    .map(|s| format!("'{s}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

const FUNCTIONS: &[&str] = &[
    "is_null",
    "not_null",
    "in",
    "days",
    "year",
    "date",
    "coalesce",
    "abs",
    "min",
    "max",
    "yuan",
    "if",
    "add_months",
];

/// Days since 1970-01-01 plus `n` calendar months, the day of the month clamped to its end.
fn add_months_to_day(days: i32, n: i64) -> Option<i32> {
    use chrono::{Datelike, NaiveDate};
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)?;
    let d = epoch.checked_add_signed(chrono::Duration::days(i64::from(days)))?;
    let months = i64::from(d.year()) * 12 + i64::from(d.month0()) + n;
    let (y, m) = (
        i32::try_from(months.div_euclid(12)).ok()?,
        months.rem_euclid(12) as u32 + 1,
    );
    let last = (28..=31)
        .rev()
        .find(|&dd| NaiveDate::from_ymd_opt(y, m, dd).is_some())?;
    let out = NaiveDate::from_ymd_opt(y, m, d.day().min(last))?;
    i32::try_from((out - epoch).num_days()).ok()
}

/// The whole number of months `add_months` is given: a literal or an integer parameter.
fn months_of(a: &Ast, scope: &Scope<'_>) -> Option<i64> {
    match a {
        Ast::Num(v, true) => Some(*v as i64),
        Ast::Neg(e) => months_of(e, scope).map(|n| -n),
        Ast::Param(p, _) => match scope.params.get(p) {
            Some(ParamValue::Int(n)) => Some(*n),
            _ => None,
        },
        _ => None,
    }
}

/// Type-checks `ast` in `scope`.
pub fn check(ast: &Ast, scope: &Scope<'_>) -> Result<Ty, ExprError> {
    Ok(match ast {
        Ast::Num(_, true) => Ty::Int,
        Ast::Num(_, false) => Ty::Float,
        Ast::Str(_) => Ty::Str,
        Ast::Bool(_) => Ty::Bool,
        Ast::Null => Ty::Null,
        Ast::List(_) => Ty::List,
        Ast::Param(p, at) => match scope.params.get(p) {
            Some(v) => v.ty(),
            None => {
                let help = crate::suggest(p, scope.params.keys().map(String::as_str))
                    .map(|s| format!("did you mean `${s}`?"));
                return err_help(*at, format!("unknown parameter `${p}`"), help);
            }
        },
        Ast::Col(c, at) => match scope.columns.get(c) {
            Some(t) => *t,
            None => {
                let help =
                    crate::diagnostic::did_you_mean(c, scope.columns.keys().map(String::as_str));
                return err_help(*at, format!("unknown column `{c}`"), help);
            }
        },
        Ast::Neg(e) => {
            let t = check(e, scope)?;
            if !t.numeric() {
                return err(0, "`-` needs a number");
            }
            t
        }
        Ast::Not(e) => {
            if check(e, scope)? != Ty::Bool {
                return err(0, "`not` needs a condition");
            }
            Ty::Bool
        }
        Ast::Bin(op, l, r, at) => {
            let (a, b) = (check(l, scope)?, check(r, scope)?);
            match *op {
                "and" | "or" => {
                    if a != Ty::Bool || b != Ty::Bool {
                        return err(*at, format!("`{op}` joins conditions, found {a} and {b}"));
                    }
                    Ty::Bool
                }
                "==" | "!=" | "<" | "<=" | ">" | ">=" => {
                    let ok = a == b
                        || (a.numeric() && b.numeric())
                        || a == Ty::Null
                        || b == Ty::Null
                        || matches!((a, b), (Ty::Date, Ty::Datetime) | (Ty::Datetime, Ty::Date));
                    if !ok {
                        return err(*at, format!("cannot compare {a} with {b}"));
                    }
                    Ty::Bool
                }
                "+" | "-" | "*" | "/" => {
                    if !(a.numeric() && b.numeric()) {
                        return err(
                            *at,
                            format!(
                                "`{op}` needs numbers, found {a} and {b} (use days(a, b) for dates)"
                            ),
                        );
                    }
                    if *op == "/" || a == Ty::Float || b == Ty::Float {
                        Ty::Float
                    } else {
                        Ty::Int
                    }
                }
                _ => unreachable!("parser makes only these operators"),
            }
        }
        Ast::Call(f, args, at) => {
            let tys: Vec<Ty> = args
                .iter()
                .map(|a| check(a, scope))
                .collect::<Result<_, _>>()?;
            let arity = |n: usize| {
                if tys.len() == n {
                    Ok(())
                } else {
                    err(
                        *at,
                        format!("`{f}` takes {n} argument(s), found {}", tys.len()),
                    )
                }
            };
            match f.as_str() {
                "is_null" | "not_null" => {
                    arity(1)?;
                    Ty::Bool
                }
                "in" => {
                    arity(2)?;
                    if tys[1] != Ty::List {
                        return err(*at, "`in(x, [..])` needs a list");
                    }
                    Ty::Bool
                }
                "days" => {
                    arity(2)?;
                    if !tys.iter().all(|t| matches!(t, Ty::Date | Ty::Datetime)) {
                        return err(
                            *at,
                            format!(
                                "`days(a, b)` needs dates, found {}",
                                tys.iter()
                                    .map(Ty::to_string)
                                    .collect::<Vec<_>>()
                                    .join(" and ")
                            ),
                        );
                    }
                    Ty::Int
                }
                "year" => {
                    arity(1)?;
                    Ty::Int
                }
                "date" => {
                    arity(1)?;
                    match &args[0] {
                        Ast::Str(s) if chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() => {
                            Ty::Date
                        }
                        _ => return err(*at, "`date('YYYY-MM-DD')` needs a date literal"),
                    }
                }
                "yuan" => {
                    arity(1)?;
                    if !tys[0].numeric() {
                        return err(*at, "`yuan(x)` needs a number");
                    }
                    Ty::Int
                }
                "coalesce" | "min" | "max" => {
                    arity(2)?;
                    if tys[0] == Ty::Null { tys[1] } else { tys[0] }
                }
                "abs" => {
                    arity(1)?;
                    tys[0]
                }
                "add_months" => {
                    arity(2)?;
                    if tys[0] != Ty::Date {
                        return err(
                            *at,
                            format!("`add_months(d, n)` needs a date first, found {}", tys[0]),
                        );
                    }
                    if months_of(&args[1], scope).is_none() {
                        return err(
                            *at,
                            "`add_months(d, n)`: n must be a whole number or an integer `$param`",
                        );
                    }
                    Ty::Date
                }
                "if" => {
                    arity(3)?;
                    if tys[0] != Ty::Bool {
                        return err(
                            *at,
                            format!("`if(c, a, b)` needs a condition first, found {}", tys[0]),
                        );
                    }
                    let (a, b) = (tys[1], tys[2]);
                    let ok =
                        a == b || (a.numeric() && b.numeric()) || a == Ty::Null || b == Ty::Null;
                    if !ok {
                        return err(*at, format!("`if(c, a, b)`: a and b differ, {a} and {b}"));
                    }
                    match (a, b) {
                        (Ty::Null, t) => t,
                        (Ty::Int, Ty::Float) => Ty::Float,
                        (t, _) => t,
                    }
                }
                other => {
                    let help = crate::diagnostic::did_you_mean(other, FUNCTIONS.iter().copied());
                    return err_help(*at, format!("unknown function `{other}`"), help);
                }
            }
        }
    })
}

/// Lowers a checked expression to polars.
pub fn lower(ast: &Ast, scope: &Scope<'_>) -> Expr {
    match ast {
        Ast::Num(v, true) => lit(*v as i64),
        Ast::Num(v, false) => lit(*v),
        Ast::Str(s) => lit(s.clone()),
        Ast::Bool(b) => lit(*b),
        Ast::Null => lit(NULL),
        Ast::List(items) => {
            let strs: Vec<String> = items
                .iter()
                .map(|i| match i {
                    Ast::Str(s) => s.clone(),
                    Ast::Num(v, _) => v.to_string(),
                    _ => String::new(),
                })
                .collect();
            lit(Series::new("list".into(), strs)).implode(false)
        }
        Ast::Param(p, _) => scope.params[p].lit(),
        Ast::Col(c, _) => col(c.as_str()),
        Ast::Neg(e) => lit(0) - lower(e, scope),
        Ast::Not(e) => lower(e, scope).not(),
        Ast::Bin(op, l, r, _) => {
            let (a, b) = (lower(l, scope), lower(r, scope));
            // comparing a date with a datetime compares the datetime's date
            let (lt, rt) = (check(l, scope).ok(), check(r, scope).ok());
            let (a, b) = match (lt, rt) {
                (Some(Ty::Date), Some(Ty::Datetime)) => (a, b.dt().date()),
                (Some(Ty::Datetime), Some(Ty::Date)) => (a.dt().date(), b),
                _ => (a, b),
            };
            match *op {
                "and" => a.and(b),
                "or" => a.or(b),
                "==" => a.eq(b),
                "!=" => a.neq(b),
                "<" => a.lt(b),
                "<=" => a.lt_eq(b),
                ">" => a.gt(b),
                ">=" => a.gt_eq(b),
                "+" => a + b,
                "-" => a - b,
                "*" => a * b,
                "/" => a.cast(DataType::Float64) / b.cast(DataType::Float64),
                _ => unreachable!("checked"),
            }
        }
        Ast::Call(f, args, _) => {
            let x = |i: usize| lower(&args[i], scope);
            match f.as_str() {
                "is_null" => x(0).is_null(),
                "not_null" => x(0).is_not_null(),
                "in" => x(0).is_in(x(1), false),
                "days" => {
                    let as_dt = |i: usize| match check(&args[i], scope).ok() {
                        Some(Ty::Date) => {
                            x(i).cast(DataType::Datetime(TimeUnit::Milliseconds, None))
                        }
                        _ => x(i),
                    };
                    (as_dt(0) - as_dt(1)).dt().total_days(false)
                }
                "year" => x(0).dt().year().cast(DataType::Int64),
                "date" => match &args[0] {
                    Ast::Str(s) => lit(s.clone()).cast(DataType::Date),
                    _ => unreachable!("checked"),
                },
                "yuan" => (x(0) * lit(100)).cast(DataType::Int64),
                "coalesce" => x(0).fill_null(x(1)),
                "abs" => x(0).abs(),
                "add_months" => {
                    let n = months_of(&args[1], scope).unwrap_or(0);
                    x(0).cast(DataType::Date).map(
                        move |c| {
                            let days = c.date()?.physical().clone();
                            let out: Int32Chunked = days
                                .iter()
                                .map(|d| d.and_then(|d| add_months_to_day(d, n)))
                                .collect();
                            Ok(out.with_name(c.name().clone()).into_date().into_column())
                        },
                        |_, f| Ok(Field::new(f.name().clone(), DataType::Date)),
                    )
                }
                "if" => when(x(0).fill_null(lit(false))).then(x(1)).otherwise(x(2)),
                "min" => when(x(0).lt_eq(x(1))).then(x(0)).otherwise(x(1)),
                "max" => when(x(0).gt_eq(x(1))).then(x(0)).otherwise(x(1)),
                _ => unreachable!("checked"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope_cols() -> BTreeMap<String, Ty> {
        [
            ("amount_paid", Ty::Int),
            ("claimed_on", Ty::Date),
            ("scheme", Ty::Str),
            ("ratio", Ty::Float),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b))
        .collect()
    }

    #[test]
    fn parses_and_checks() {
        let cols = scope_cols();
        let params = [("cap".to_string(), ParamValue::Int(3))]
            .into_iter()
            .collect();
        let s = Scope {
            columns: &cols,
            params: &params,
        };
        let e = parse("amount_paid > yuan(5000) and in(scheme, ['training', 'skill_upgrade']) or not (ratio < $cap)").expect("parses");
        assert_eq!(check(&e, &s), Ok(Ty::Bool));
        let e = parse("days(claimed_on, date('2025-01-01')) >= 365").expect("parses");
        assert_eq!(check(&e, &s), Ok(Ty::Bool));
    }

    #[test]
    fn reports_position_and_suggestion() {
        let cols = scope_cols();
        let params = BTreeMap::new();
        let s = Scope {
            columns: &cols,
            params: &params,
        };
        let e = parse("amount_payd > 3").expect("parses");
        let er = check(&e, &s).expect_err("unknown column");
        assert_eq!(
            (er.offset, er.message.as_str(), er.help.as_deref()),
            (
                0,
                "unknown column `amount_payd`",
                Some("did you mean `amount_paid`?")
            )
        );
        let er = parse("amount_paid > ").expect_err("truncated");
        assert_eq!(er.offset, 14);
        let e = parse("scheme + 1").expect("parses");
        assert!(check(&e, &s).is_err());
        let e = parse("dayz(claimed_on, claimed_on)").expect("parses");
        assert!(
            check(&e, &s)
                .expect_err("fn")
                .help
                .is_some_and(|h| h.contains("did you mean `days`"))
        );
        assert!(parse("a ; b").is_err());
    }

    #[test]
    fn deep_or_exploding_expressions_are_errors_not_crashes() {
        // nesting past the bound: brackets, `not` and `-` chains, calls, lists
        let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
        let er = parse(&deep).expect_err("too deep");
        assert!(er.message.contains("nests more than"), "{}", er.message);
        assert!(parse(&format!("{}true", "not ".repeat(5_000))).is_err());
        assert!(parse(&format!("{}1", "-".repeat(5_000))).is_err());
        assert!(parse(&format!("{}1{}", "abs(".repeat(5_000), ")".repeat(5_000))).is_err());
        // within the bound it parses
        assert!(parse(&format!("{}1{}", "(".repeat(20), ")".repeat(20))).is_ok());
        // a long chain builds a tree as deep as it is long
        assert!(parse(&vec!["true"; 5_000].join(" and ")).is_err());
        assert!(parse(&vec!["1"; 5_000].join(" + ")).is_err());
        assert!(parse(&vec!["true"; 50].join(" and ")).is_ok());
        // min nested 30 deep is 2^30 lowered nodes: refused before lowering
        let mut e1 = "amount_paid".to_string();
        for _ in 0..30 {
            e1 = format!("min({e1}, 1)");
        }
        let er = parse(&e1).expect_err("explodes");
        assert!(er.message.contains("nodes"), "{}", er.message);
        // the shipped rules' use (one or two levels) is far inside
        assert!(parse("min(amount_paid, max(amount_paid, 3))").is_ok());
    }

    #[test]
    fn if_picks_a_branch_and_a_null_condition_takes_the_second() {
        let cols = scope_cols();
        let params = BTreeMap::new();
        let s = Scope {
            columns: &cols,
            params: &params,
        };
        let e = parse("if(ratio < 0.5, amount_paid, 0)").expect("parses");
        assert_eq!(check(&e, &s), Ok(Ty::Int));
        let df = df! {
            "amount_paid" => [100i64, 200, 300],
            "ratio" => [Some(0.2), Some(0.9), None],
        }
        .expect("frame");
        let out = df
            .lazy()
            .select([lower(&e, &s).alias("x")])
            .collect()
            .expect("runs");
        let x: Vec<Option<i64>> = out
            .column("x")
            .expect("x")
            .i64()
            .expect("i64")
            .iter()
            .collect();
        assert_eq!(x, [Some(100), Some(0), Some(0)]);
        let er =
            check(&parse("if(ratio, 1, 2)").expect("parses"), &s).expect_err("not a condition");
        assert!(er.message.contains("needs a condition"), "{}", er.message);
        let er =
            check(&parse("if(ratio < 1, 1, scheme)").expect("parses"), &s).expect_err("differ");
        assert!(er.message.contains("differ"), "{}", er.message);
    }

    #[test]
    fn add_months_keeps_the_calendar() {
        let cols = scope_cols();
        let params = [("m".to_string(), ParamValue::Int(12))]
            .into_iter()
            .collect();
        let s = Scope {
            columns: &cols,
            params: &params,
        };
        let e = parse("claimed_on > add_months(date('2024-02-20'), $m)").expect("parses");
        assert_eq!(check(&e, &s), Ok(Ty::Bool));
        // 2025-02-20 is exactly 12 months (366 days) after: not later; 2025-02-21 is
        let df = df! { "claimed_on" => ["2025-02-20", "2025-02-21"] }
            .expect("frame")
            .lazy()
            .with_columns([col("claimed_on").cast(DataType::Date)])
            .collect()
            .expect("dates");
        let out = df
            .lazy()
            .select([lower(&e, &s).alias("x")])
            .collect()
            .expect("runs");
        let x: Vec<Option<bool>> = out
            .column("x")
            .expect("x")
            .bool()
            .expect("bool")
            .iter()
            .collect();
        assert_eq!(x, [Some(false), Some(true)]);
        // the day clamps to the month's end: 2024-01-31 + 1 month is 2024-02-29
        let d = |y, m, dd| {
            (chrono::NaiveDate::from_ymd_opt(y, m, dd).expect("date")
                - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch"))
            .num_days() as i32
        };
        assert_eq!(add_months_to_day(d(2024, 1, 31), 1), Some(d(2024, 2, 29)));
        assert_eq!(add_months_to_day(d(2024, 12, 15), 1), Some(d(2025, 1, 15)));
        assert_eq!(add_months_to_day(d(2025, 3, 15), -3), Some(d(2024, 12, 15)));
        let er =
            check(&parse("add_months(claimed_on, ratio)").expect("parses"), &s).expect_err("n");
        assert!(er.message.contains("whole number"), "{}", er.message);
    }
}
