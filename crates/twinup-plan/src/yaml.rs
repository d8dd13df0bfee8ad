//! A small YAML loader built on `saphyr-parser` events: it produces a tree of
//! nodes that remember their line and column, rejects duplicate keys and
//! reports syntax errors with positions. Scalars follow the YAML 1.2 core schema.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, Tag};
use serde_json::{Map, Number, Value};

use crate::limits::{MAX_ALIASES, MAX_DEPTH, MAX_DOCUMENT_BYTES, MAX_EXPANDED_BYTES};

/// What one node costs against [`MAX_EXPANDED_BYTES`] besides its scalar text: roughly its
/// size in memory once loaded.
const NODE_COST: usize = 64;

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    fn from_span(span: &Span) -> Pos {
        Pos {
            line: span.start.line(),
            column: span.start.col() + 1,
        }
    }
}

/// A YAML node and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub pos: Pos,
    pub kind: NodeKind,
}

/// The shape of a node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NodeKind {
    Scalar(Value),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// One `key: value` pair of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub key: String,
    pub key_pos: Pos,
    pub value: Node,
}

/// A problem found while loading: where, what, and how to fix it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct YamlProblem {
    pub pos: Pos,
    pub message: String,
    pub help: String,
}

impl Node {
    /// The node as a JSON value (mapping order is kept).
    pub fn to_value(&self) -> Value {
        match &self.kind {
            NodeKind::Scalar(v) => v.clone(),
            NodeKind::Seq(items) => Value::Array(items.iter().map(Node::to_value).collect()),
            NodeKind::Map(entries) => {
                let mut map = Map::new();
                for e in entries {
                    map.insert(e.key.clone(), e.value.to_value());
                }
                Value::Object(map)
            }
        }
    }

    /// The entries, when this node is a mapping.
    pub fn entries(&self) -> Option<&[Entry]> {
        match &self.kind {
            NodeKind::Map(e) => Some(e),
            _ => None,
        }
    }

    /// The value under `key`, when this node is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries()?
            .iter()
            .find(|e| e.key == key)
            .map(|e| &e.value)
    }

    /// The entry under `key`, when this node is a mapping that has it.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries()?.iter().find(|e| e.key == key)
    }

    /// A human word for the node's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar(v) => value_type_name(v),
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }
}

/// A human word for a JSON value's type, for error messages.
pub(crate) fn value_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing (null)",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a decimal number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Loads the single document in `text`. `Ok(None)` means the text holds no
/// document at all (empty or only comments).
/// Documents over [`MAX_DOCUMENT_BYTES`], nested deeper than [`MAX_DEPTH`], with more than
/// [`MAX_ALIASES`] aliases or expanding (aliases counted at every use) past
/// [`MAX_EXPANDED_BYTES`] are refused with the position where the limit was crossed.
pub(crate) fn load(text: &str) -> Result<Option<Node>, Vec<YamlProblem>> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(vec![YamlProblem {
            pos: Pos { line: 1, column: 1 },
            message: format!(
                "the document is {} bytes, over the limit of {} bytes ({} MiB)",
                text.len(),
                MAX_DOCUMENT_BYTES,
                MAX_DOCUMENT_BYTES >> 20
            ),
            help: "plans and answers files are small: keep large data out of them".to_string(),
        }]);
    }
    let mut loader = Loader {
        parser: Parser::new_from_str(text),
        anchors: HashMap::new(),
        problems: Vec::new(),
        expanded: 0,
        aliases: 0,
    };
    loader.run()
}

type Next<'a> = Option<(Event<'a>, Span)>;

struct Loader<'a> {
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    /// Each anchored node with what it costs at every use.
    anchors: HashMap<usize, (Node, usize)>,
    problems: Vec<YamlProblem>,
    /// Cost of every node built so far, aliased copies included.
    expanded: usize,
    /// Aliases met so far.
    aliases: usize,
}

/// Raised when the event stream cannot go on (a syntax error was recorded).
struct Stop;

impl<'a> Loader<'a> {
    fn run(&mut self) -> Result<Option<Node>, Vec<YamlProblem>> {
        let result = self.documents();
        match result {
            Ok(node) if self.problems.is_empty() => Ok(node),
            _ => Err(std::mem::take(&mut self.problems)),
        }
    }

    fn documents(&mut self) -> Result<Option<Node>, Stop> {
        let mut root = None;
        loop {
            let Some((event, span)) = self.next()? else {
                return Ok(root);
            };
            match event {
                Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
                Event::StreamEnd => return Ok(root),
                Event::DocumentStart(_) => {
                    let Some((event, span)) = self.next()? else {
                        return Ok(root);
                    };
                    if matches!(event, Event::DocumentEnd | Event::StreamEnd) {
                        continue;
                    }
                    let node = self.node(event, span, 0)?;
                    if root.is_some() {
                        self.problem(
                            node.pos,
                            "this file holds more than one YAML document",
                            "keep a single document: remove the `---` line and everything after it",
                        );
                        return Err(Stop);
                    }
                    root = Some(node);
                }
                other => {
                    let node = self.node(other, span, 0)?;
                    root = Some(node);
                }
            }
        }
    }

    fn next(&mut self) -> Result<Next<'a>, Stop> {
        match self.parser.next() {
            None => Ok(None),
            Some(Ok(pair)) => Ok(Some(pair)),
            Some(Err(e)) => {
                self.syntax(&e);
                Err(Stop)
            }
        }
    }

    fn syntax(&mut self, e: &ScanError) {
        let m = e.marker();
        self.problems.push(YamlProblem {
            pos: Pos {
                line: m.line().max(1),
                column: m.col() + 1,
            },
            message: format!("YAML syntax error: {}", e.info()),
            help: "check the indentation, quoting and brackets at this position".to_string(),
        });
    }

    fn problem(&mut self, pos: Pos, message: impl Into<String>, help: impl Into<String>) {
        self.problems.push(YamlProblem {
            pos,
            message: message.into(),
            help: help.into(),
        });
    }

    fn expect_next(&mut self) -> Result<(Event<'a>, Span), Stop> {
        match self.next()? {
            Some(pair) => Ok(pair),
            None => Err(Stop),
        }
    }

    fn node(&mut self, event: Event<'a>, span: Span, depth: usize) -> Result<Node, Stop> {
        let pos = Pos::from_span(&span);
        if depth > MAX_DEPTH {
            self.problem(
                pos,
                format!("the document is nested more than {MAX_DEPTH} levels deep"),
                "flatten the structure",
            );
            return Err(Stop);
        }
        let start = self.expanded;
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                self.charge(NODE_COST + text.len(), pos)?;
                let value = self.scalar(&text, style, tag.as_deref(), pos);
                let node = Node {
                    pos,
                    kind: NodeKind::Scalar(value),
                };
                self.remember(anchor, &node, start);
                Ok(node)
            }
            Event::SequenceStart(anchor, tag) => {
                self.charge(NODE_COST, pos)?;
                self.check_collection_tag(tag.as_deref(), pos, "seq");
                let mut items = Vec::new();
                loop {
                    let (event, span) = self.expect_next()?;
                    if matches!(event, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(event, span, depth + 1)?);
                }
                let node = Node {
                    pos,
                    kind: NodeKind::Seq(items),
                };
                self.remember(anchor, &node, start);
                Ok(node)
            }
            Event::MappingStart(anchor, tag) => {
                self.charge(NODE_COST, pos)?;
                self.check_collection_tag(tag.as_deref(), pos, "map");
                let node = self.mapping(pos, depth)?;
                self.remember(anchor, &node, start);
                Ok(node)
            }
            Event::Alias(id) => match self.anchors.get(&id).map(|(_, cost)| *cost) {
                Some(cost) => {
                    self.aliases += 1;
                    if self.aliases > MAX_ALIASES {
                        self.problem(
                            pos,
                            format!("the document uses more than {MAX_ALIASES} aliases"),
                            "write the values out instead of repeating `*alias` references",
                        );
                        return Err(Stop);
                    }
                    self.charge(cost, pos)?;
                    let mut node = self.anchors[&id].0.clone();
                    node.pos = pos;
                    Ok(node)
                }
                None => {
                    self.problem(
                        pos,
                        "this alias refers to an unknown anchor",
                        "define the anchor (`&name`) before using the alias (`*name`)",
                    );
                    Err(Stop)
                }
            },
            _ => {
                self.problem(
                    pos,
                    "unexpected YAML structure",
                    "check the indentation at this position",
                );
                Err(Stop)
            }
        }
    }

    fn mapping(&mut self, pos: Pos, depth: usize) -> Result<Node, Stop> {
        let mut entries: Vec<Entry> = Vec::new();
        loop {
            let (event, span) = self.expect_next()?;
            if matches!(event, Event::MappingEnd) {
                break;
            }
            let key_node = self.node(event, span, depth + 1)?;
            let (value_event, value_span) = self.expect_next()?;
            let value = self.node(value_event, value_span, depth + 1)?;
            let key = match &key_node.kind {
                NodeKind::Scalar(Value::String(s)) => s.clone(),
                NodeKind::Scalar(Value::Null) => {
                    self.problem(
                        key_node.pos,
                        "a mapping key is empty",
                        "write a name before the `:`",
                    );
                    continue;
                }
                NodeKind::Scalar(other) => other.to_string(),
                _ => {
                    self.problem(
                        key_node.pos,
                        format!("a mapping key is {}", key_node.type_name()),
                        "use a plain name as the key",
                    );
                    continue;
                }
            };
            if let Some(first) = entries.iter().find(|e| e.key == key) {
                let first_line = first.key_pos.line;
                self.problem(
                    key_node.pos,
                    format!("duplicate key `{key}`"),
                    format!("`{key}` is already set on line {first_line}; remove one of them"),
                );
                continue;
            }
            entries.push(Entry {
                key,
                key_pos: key_node.pos,
                value,
            });
        }
        Ok(Node {
            pos,
            kind: NodeKind::Map(entries),
        })
    }

    /// Keeps an anchored node for its aliases, with its cost: what was built since `start`.
    fn remember(&mut self, anchor: usize, node: &Node, start: usize) {
        if anchor > 0 {
            self.anchors
                .insert(anchor, (node.clone(), self.expanded - start));
        }
    }

    /// Counts `cost` against the expansion limit; over it, records the problem at `pos`.
    fn charge(&mut self, cost: usize, pos: Pos) -> Result<(), Stop> {
        self.expanded = self.expanded.saturating_add(cost);
        if self.expanded <= MAX_EXPANDED_BYTES {
            return Ok(());
        }
        self.problem(
            pos,
            format!(
                "the document expands to more than {} MiB here (aliases are copied at every use)",
                MAX_EXPANDED_BYTES >> 20
            ),
            "write the values out or use fewer `*alias` references to large anchors",
        );
        Err(Stop)
    }

    fn check_collection_tag(&mut self, tag: Option<&Tag>, pos: Pos, expected: &str) {
        if let Some(tag) = tag
            && !(tag.is_yaml_core_schema() && tag.suffix == expected)
        {
            self.problem(
                pos,
                format!("unsupported YAML tag `{}{}`", tag.handle, tag.suffix),
                "remove the tag; plans use plain YAML",
            );
        }
    }

    fn scalar(&mut self, text: &str, style: ScalarStyle, tag: Option<&Tag>, pos: Pos) -> Value {
        if let Some(tag) = tag {
            if tag.is_yaml_core_schema() {
                let resolved = match tag.suffix.as_str() {
                    "str" => Some(Value::String(text.to_string())),
                    "null" => resolve_plain(text).filter(Value::is_null),
                    "bool" => resolve_plain(text).filter(Value::is_boolean),
                    "int" => resolve_plain(text).filter(|v| v.is_i64() || v.is_u64()),
                    "float" => resolve_plain(text).filter(Value::is_number),
                    _ => None,
                };
                if let Some(v) = resolved {
                    return v;
                }
            }
            self.problem(
                pos,
                format!(
                    "unsupported YAML tag `{}{}` on `{text}`",
                    tag.handle, tag.suffix
                ),
                "remove the tag; plans use plain YAML",
            );
            return Value::String(text.to_string());
        }
        match style {
            ScalarStyle::Plain => {
                resolve_plain(text).unwrap_or_else(|| Value::String(text.to_string()))
            }
            _ => Value::String(text.to_string()),
        }
    }
}

/// Resolves a plain scalar with the YAML 1.2 core schema. `None` means "a string".
pub(crate) fn resolve_plain(text: &str) -> Option<Value> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        _ => {}
    }
    if let Some(n) = resolve_int(text) {
        return Some(n);
    }
    resolve_float(text)
}

fn resolve_int(text: &str) -> Option<Value> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) = if let Some(hex) = text.strip_prefix("0x") {
        (16, hex)
    } else if let Some(oct) = text.strip_prefix("0o") {
        (8, oct)
    } else {
        (10, digits)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    if radix != 10 {
        return u64::from_str_radix(digits, radix).ok().map(Value::from);
    }
    if negative {
        format!("-{digits}").parse::<i64>().ok().map(Value::from)
    } else {
        digits.parse::<u64>().ok().map(Value::from)
    }
}

fn resolve_float(text: &str) -> Option<Value> {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let mut chars = body.chars().peekable();
    let mut mantissa_digits = 0;
    while chars.peek().is_some_and(char::is_ascii_digit) {
        chars.next();
        mantissa_digits += 1;
    }
    if chars.peek() == Some(&'.') {
        chars.next();
        while chars.peek().is_some_and(char::is_ascii_digit) {
            chars.next();
            mantissa_digits += 1;
        }
    }
    if mantissa_digits == 0 {
        return None;
    }
    if matches!(chars.peek(), Some('e' | 'E')) {
        chars.next();
        if matches!(chars.peek(), Some('-' | '+')) {
            chars.next();
        }
        let mut exp_digits = 0;
        while chars.peek().is_some_and(char::is_ascii_digit) {
            chars.next();
            exp_digits += 1;
        }
        if exp_digits == 0 {
            return None;
        }
    }
    if chars.next().is_some() {
        return None;
    }
    let f: f64 = text.parse().ok()?;
    Number::from_f64(f).map(Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn value(text: &str) -> Value {
        match load(text) {
            Ok(Some(node)) => node.to_value(),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn scalars_follow_core_schema() {
        assert_eq!(
            value("[1, -2, 0x1f, 1.5, true, no, ~, '3', abc, 1e3]"),
            json!([1, -2, 31, 1.5, true, "no", null, "3", "abc", 1000.0])
        );
    }

    #[test]
    fn positions_are_one_based() {
        let node = load("a:\n  b: [x, y]\n").unwrap().unwrap();
        let entries = node.entries().unwrap();
        assert_eq!(entries[0].key_pos, Pos { line: 1, column: 1 });
        let inner = &entries[0].value;
        let b = &inner.entries().unwrap()[0];
        assert_eq!(b.key_pos, Pos { line: 2, column: 3 });
        assert_eq!(b.value.pos, Pos { line: 2, column: 6 });
        let NodeKind::Seq(items) = &b.value.kind else {
            panic!("not a seq")
        };
        assert_eq!(
            items[1].pos,
            Pos {
                line: 2,
                column: 10
            }
        );
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        let problems = load("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].pos, Pos { line: 3, column: 1 });
        assert_eq!(problems[0].message, "duplicate key `a`");
        assert_eq!(
            problems[0].help,
            "`a` is already set on line 1; remove one of them"
        );
    }

    #[test]
    fn syntax_errors_have_positions() {
        let problems = load("a: [1, 2\nb: 3\n").unwrap_err();
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.starts_with("YAML syntax error"));
        assert!(problems[0].pos.line >= 1);
    }

    #[test]
    fn empty_text_has_no_document() {
        assert_eq!(load("").unwrap(), None);
        assert_eq!(load("# only a comment\n").unwrap(), None);
    }

    #[test]
    fn aliases_copy_the_anchored_node() {
        assert_eq!(
            value("a: &x {k: 1}\nb: *x\n"),
            json!({"a": {"k": 1}, "b": {"k": 1}})
        );
    }

    #[test]
    fn second_document_is_rejected() {
        let problems = load("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(
            problems[0].message,
            "this file holds more than one YAML document"
        );
    }

    #[test]
    fn alias_expansion_is_bounded() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
        for level in 1..=9 {
            let items = vec![format!("*a{}", level - 1); 9].join(", ");
            text.push_str(&format!("a{level}: &a{level} [{items}]\n"));
        }
        let problems = load(&text).unwrap_err();
        assert!(problems[0].message.contains("expands to more than 16 MiB"));
    }

    #[test]
    fn alias_count_is_bounded() {
        let text = format!("a: &a x\nb: [{}]\n", vec!["*a"; MAX_ALIASES + 1].join(", "));
        let problems = load(&text).unwrap_err();
        assert_eq!(
            problems[0].message,
            format!("the document uses more than {MAX_ALIASES} aliases")
        );
        let text = format!("a: &a x\nb: [{}]\n", vec!["*a"; MAX_ALIASES].join(", "));
        assert!(load(&text).is_ok());
    }

    #[test]
    fn oversized_documents_are_refused() {
        let text = "#".repeat(MAX_DOCUMENT_BYTES + 1);
        let problems = load(&text).unwrap_err();
        assert_eq!(problems[0].pos, Pos { line: 1, column: 1 });
        assert!(
            problems[0]
                .message
                .contains("over the limit of 4194304 bytes")
        );
    }
}
