//! Row patterns: the `PATTERN (...)` of MATCH_RECOGNIZE as a small regular-expression program
//! over rows, and the backtracking matcher that runs it.
//!
//! The matcher finds, from one start row, the match SQL:2016 prefers: alternatives are tried
//! left to right, greedy quantifiers take as many rows as they can and reluctant ones as few,
//! and a later element that fails sends the search back to the most recent open choice. A
//! variable's DEFINE condition may read the rows already mapped to other variables, so each
//! condition is asked with the match so far (see [`Conditions`]).

use std::fmt;

use datafusion::common::plan_datafusion_err;
use datafusion::error::Result;
use datafusion::sql::sqlparser::ast::{
    MatchRecognizePattern, MatchRecognizeSymbol, RepetitionQuantifier,
};

/// The largest program a pattern may compile to (bounded repetitions are unrolled).
const MAX_PROGRAM: usize = 100_000;

/// A row pattern over variables numbered in order of first appearance.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, serde::Serialize, serde::Deserialize)]
pub(crate) enum Pattern {
    /// One row mapped to the variable.
    Var(usize),
    /// `^`: the partition's first row is next.
    Start,
    /// `$`: the partition's last row has been consumed.
    End,
    Concat(Vec<Pattern>),
    /// Alternatives, preferred left to right.
    Alternation(Vec<Pattern>),
    Repeat {
        body: Box<Pattern>,
        min: u32,
        /// `None`: unbounded.
        max: Option<u32>,
        greedy: bool,
    },
}

impl Pattern {
    /// Reads sqlparser's pattern; `names` receives each variable's normalized name.
    ///
    /// sqlparser reads the reluctant `x*?` as `(x*)?`; a quantifier applied directly to a
    /// quantified element (no parentheses between them) is the reluctant form here, and
    /// `(x*)?` with parentheses keeps its own meaning.
    pub(crate) fn from_sql(
        pattern: &MatchRecognizePattern,
        normalize: &dyn Fn(&datafusion::sql::sqlparser::ast::Ident) -> String,
        names: &mut Vec<String>,
    ) -> Result<Pattern> {
        use MatchRecognizePattern as P;
        Ok(match pattern {
            P::Symbol(MatchRecognizeSymbol::Named(ident)) => {
                let name = normalize(ident);
                let index = match names.iter().position(|n| *n == name) {
                    Some(i) => i,
                    None => {
                        names.push(name);
                        names.len() - 1
                    }
                };
                Pattern::Var(index)
            }
            P::Symbol(MatchRecognizeSymbol::Start) => Pattern::Start,
            P::Symbol(MatchRecognizeSymbol::End) => Pattern::End,
            P::Exclude(_) => {
                return Err(unsupported(
                    "exclusion {- ... -} (it applies to ALL ROWS PER MATCH only)",
                ));
            }
            P::Permute(_) => return Err(unsupported("PERMUTE")),
            P::Concat(parts) => Pattern::Concat(
                parts
                    .iter()
                    .map(|p| Pattern::from_sql(p, normalize, names))
                    .collect::<Result<_>>()?,
            ),
            P::Group(inner) => Pattern::from_sql(inner, normalize, names)?,
            P::Alternation(parts) => Pattern::Alternation(
                parts
                    .iter()
                    .map(|p| Pattern::from_sql(p, normalize, names))
                    .collect::<Result<_>>()?,
            ),
            P::Repetition(inner, quantifier) => {
                // `x*?` arrives as `(x*)?`: an `?` straight on a quantified element.
                let (body, quantifier, greedy) = match (inner.as_ref(), quantifier) {
                    (P::Repetition(body, q), RepetitionQuantifier::AtMostOne) => (body, q, false),
                    _ => (inner, quantifier, true),
                };
                if !greedy && matches!(body.as_ref(), P::Repetition(..)) {
                    return Err(plan_datafusion_err!(
                        "MATCH_RECOGNIZE: a quantifier after a reluctant quantifier ({pattern})"
                    ));
                }
                let (min, max) = bounds(quantifier)?;
                Pattern::Repeat {
                    body: Box::new(Pattern::from_sql(body, normalize, names)?),
                    min,
                    max,
                    greedy,
                }
            }
        })
    }

    /// Whether every variable the pattern names is below `count` (the plan codec's check).
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn vars_below(&self, count: usize) -> bool {
        match self {
            Pattern::Var(v) => *v < count,
            Pattern::Start | Pattern::End => true,
            Pattern::Concat(parts) | Pattern::Alternation(parts) => {
                parts.iter().all(|p| p.vars_below(count))
            }
            Pattern::Repeat { body, .. } => body.vars_below(count),
        }
    }

    /// Compiles the pattern to the matcher's program.
    pub(crate) fn compile(&self) -> Result<Program> {
        let mut program = Program {
            code: Vec::new(),
            slots: 0,
        };
        program.emit_pattern(self)?;
        program.code.push(Inst::Match);
        Ok(program)
    }

    /// Writes the pattern back in SQL, for plans.
    pub(crate) fn fmt_with(&self, f: &mut fmt::Formatter, names: &[String]) -> fmt::Result {
        match self {
            Pattern::Var(v) => write!(f, "{}", names[*v]),
            Pattern::Start => write!(f, "^"),
            Pattern::End => write!(f, "$"),
            Pattern::Concat(parts) => {
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        write!(f, " ")?;
                    }
                    p.fmt_with(f, names)?;
                }
                Ok(())
            }
            Pattern::Alternation(parts) => {
                write!(f, "(")?;
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        write!(f, " | ")?;
                    }
                    p.fmt_with(f, names)?;
                }
                write!(f, ")")
            }
            Pattern::Repeat {
                body,
                min,
                max,
                greedy,
            } => {
                let grouped = matches!(body.as_ref(), Pattern::Concat(_));
                if grouped {
                    write!(f, "(")?;
                }
                body.fmt_with(f, names)?;
                if grouped {
                    write!(f, ")")?;
                }
                match (min, max) {
                    (0, None) => write!(f, "*")?,
                    (1, None) => write!(f, "+")?,
                    (0, Some(1)) => write!(f, "?")?,
                    (n, None) => write!(f, "{{{n},}}")?,
                    (n, Some(m)) if n == m => write!(f, "{{{n}}}")?,
                    (n, Some(m)) => write!(f, "{{{n},{m}}}")?,
                }
                if !greedy {
                    write!(f, "?")?;
                }
                Ok(())
            }
        }
    }
}

fn unsupported(what: &str) -> datafusion::error::DataFusionError {
    plan_datafusion_err!("MATCH_RECOGNIZE: {what} is not supported")
}

fn bounds(quantifier: &RepetitionQuantifier) -> Result<(u32, Option<u32>)> {
    use RepetitionQuantifier as Q;
    let (min, max) = match *quantifier {
        Q::ZeroOrMore => (0, None),
        Q::OneOrMore => (1, None),
        Q::AtMostOne => (0, Some(1)),
        Q::Exactly(n) => (n, Some(n)),
        Q::AtLeast(n) => (n, None),
        Q::AtMost(m) => (0, Some(m)),
        Q::Range(n, m) => (n, Some(m)),
    };
    if let Some(max) = max
        && max < min
    {
        return Err(plan_datafusion_err!(
            "MATCH_RECOGNIZE: the quantifier {quantifier} has its upper bound below its lower bound"
        ));
    }
    Ok((min, max))
}

/// One instruction of the matcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Inst {
    /// Map the next row to the variable when its condition holds.
    Var(usize),
    /// Try the first target; on failure, the second.
    Split(usize, usize),
    Jump(usize),
    /// Remember the position (the start of a loop's iteration).
    Save(usize),
    /// Fail when the loop's iteration consumed no row (stops empty iterations repeating).
    Progress(usize),
    Start,
    End,
    Match,
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub(crate) struct Program {
    code: Vec<Inst>,
    slots: usize,
}

impl Program {
    fn push(&mut self, inst: Inst) -> Result<usize> {
        if self.code.len() >= MAX_PROGRAM {
            return Err(plan_datafusion_err!(
                "MATCH_RECOGNIZE: the pattern is too large once its bounded repetitions are \
                 expanded (more than {MAX_PROGRAM} steps)"
            ));
        }
        self.code.push(inst);
        Ok(self.code.len() - 1)
    }

    fn emit_pattern(&mut self, pattern: &Pattern) -> Result<()> {
        match pattern {
            Pattern::Var(v) => {
                self.push(Inst::Var(*v))?;
            }
            Pattern::Start => {
                self.push(Inst::Start)?;
            }
            Pattern::End => {
                self.push(Inst::End)?;
            }
            Pattern::Concat(parts) => {
                for p in parts {
                    self.emit_pattern(p)?;
                }
            }
            Pattern::Alternation(parts) => {
                let mut jumps = Vec::new();
                for (i, p) in parts.iter().enumerate() {
                    if i + 1 < parts.len() {
                        let split = self.push(Inst::Split(0, 0))?;
                        self.emit_pattern(p)?;
                        jumps.push(self.push(Inst::Jump(0))?);
                        let next = self.code.len();
                        self.code[split] = Inst::Split(split + 1, next);
                    } else {
                        self.emit_pattern(p)?;
                    }
                }
                let end = self.code.len();
                for j in jumps {
                    self.code[j] = Inst::Jump(end);
                }
            }
            Pattern::Repeat {
                body,
                min,
                max,
                greedy,
            } => {
                for _ in 0..*min {
                    self.emit_pattern(body)?;
                }
                match max {
                    None => {
                        let slot = self.slots;
                        self.slots += 1;
                        let split = self.push(Inst::Split(0, 0))?;
                        self.push(Inst::Save(slot))?;
                        self.emit_pattern(body)?;
                        self.push(Inst::Progress(slot))?;
                        self.push(Inst::Jump(split))?;
                        let exit = self.code.len();
                        self.code[split] = split_to(split + 1, exit, *greedy);
                    }
                    Some(max) => {
                        let mut splits = Vec::new();
                        for _ in *min..*max {
                            splits.push(self.push(Inst::Split(0, 0))?);
                            self.emit_pattern(body)?;
                        }
                        let exit = self.code.len();
                        for s in splits {
                            self.code[s] = split_to(s + 1, exit, *greedy);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

impl Program {
    /// Whether every path from instruction `pc` to a match tries `var`, and maps no row to
    /// a variable of `avoid` before it does.
    fn must_try(&self, pc: usize, var: usize, avoid: &[usize]) -> bool {
        let mut seen = vec![false; self.code.len()];
        let mut todo = vec![pc];
        while let Some(at) = todo.pop() {
            if std::mem::replace(&mut seen[at], true) {
                continue;
            }
            match self.code[at] {
                Inst::Var(v) if v == var => {}
                Inst::Var(v) if avoid.contains(&v) => return false,
                Inst::Match => return false,
                Inst::Split(a, b) => todo.extend([a, b]),
                Inst::Jump(to) => todo.push(to),
                Inst::Var(_) | Inst::Save(_) | Inst::Progress(_) | Inst::Start | Inst::End => {
                    todo.push(at + 1)
                }
            }
        }
        true
    }
}

/// A split that prefers taking another iteration (greedy) or leaving (reluctant).
fn split_to(body: usize, exit: usize, greedy: bool) -> Inst {
    if greedy {
        Inst::Split(body, exit)
    } else {
        Inst::Split(exit, body)
    }
}

/// A DEFINE condition's answer for one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Holds,
    Fails,
    /// Fails, and would fail at every later row of the partition too, as long as the rows
    /// mapped to the variables of [`Conditions::onward_refs`] stay as they are. (A bound on
    /// the ORDER BY key, `ts <= a.ts + INTERVAL '10 seconds'`, once passed.)
    FailsOnward,
}

/// What the matcher asks of the DEFINE conditions.
pub(crate) trait Conditions {
    /// Whether row `row` may be mapped to `var`, given the rows `start..row` already mapped
    /// (`mapped[i]` is the variable of row `start + i`).
    fn holds(&mut self, var: usize, row: usize, start: usize, mapped: &[usize]) -> Result<Verdict>;

    /// The variables whose rows a [`Verdict::FailsOnward`] for `var` depends on.
    fn onward_refs(&self, _var: usize) -> &[usize] {
        &[]
    }
}

enum Backtrack {
    Resume { pc: usize, pos: usize },
    Restore { slot: usize, value: usize },
}

/// Runs a program over a partition's rows; reusable between start rows.
pub(crate) struct Matcher<'p> {
    program: &'p Program,
    stack: Vec<Backtrack>,
    slots: Vec<usize>,
    /// The variable of each row of the current match.
    pub mapped: Vec<usize>,
    /// Per variable, the row from which it cannot match while the match's rows before that
    /// row stay as they are (a [`Verdict::FailsOnward`]).
    dead_from: Vec<Option<usize>>,
    /// Whether every path from an instruction to a match must try a variable before it
    /// maps a row to a variable that variable's verdicts depend on (see [`Self::doomed`]).
    must_try: std::collections::HashMap<(usize, usize), bool>,
}

impl<'p> Matcher<'p> {
    pub(crate) fn new(program: &'p Program) -> Self {
        Matcher {
            program,
            stack: Vec::new(),
            slots: vec![usize::MAX; program.slots],
            mapped: Vec::new(),
            dead_from: Vec::new(),
            must_try: std::collections::HashMap::new(),
        }
    }

    /// Whether the path resumed at `pc`, `pos` cannot reach a match: it must try a variable
    /// known to fail from a row at or before `pos`, and on the way it maps no row to a
    /// variable that knowledge depends on.
    fn doomed(&mut self, pc: usize, pos: usize, start: usize, conditions: &dyn Conditions) -> bool {
        for var in 0..self.dead_from.len() {
            let Some(from) = self.dead_from[var] else {
                continue;
            };
            let refs = conditions.onward_refs(var);
            // Rows from `from` to `pos` were mapped after the verdict: none may be a
            // variable it depends on.
            if from > pos
                || self.mapped[from - start..pos - start]
                    .iter()
                    .any(|v| refs.contains(v))
            {
                continue;
            }
            let program = self.program;
            let must = *self
                .must_try
                .entry((pc, var))
                .or_insert_with(|| program.must_try(pc, var, refs));
            if must {
                return true;
            }
        }
        false
    }

    /// The preferred match starting at `start` in a partition of `len` rows: its end (the
    /// first row after it; `start` for an empty match), with `self.mapped` holding each
    /// row's variable. `None` when no match starts there.
    pub(crate) fn find(
        &mut self,
        start: usize,
        len: usize,
        conditions: &mut dyn Conditions,
    ) -> Result<Option<usize>> {
        self.stack.clear();
        self.mapped.clear();
        self.slots.fill(usize::MAX);
        self.dead_from.clear();
        let code = &self.program.code;
        let (mut pc, mut pos) = (0usize, start);
        loop {
            let ok = match code[pc] {
                Inst::Var(v) => {
                    let verdict = if pos < len {
                        conditions.holds(v, pos, start, &self.mapped)?
                    } else {
                        Verdict::Fails
                    };
                    match verdict {
                        Verdict::Holds => {
                            self.mapped.push(v);
                            pos += 1;
                            pc += 1;
                            true
                        }
                        Verdict::Fails => false,
                        Verdict::FailsOnward => {
                            if self.dead_from.len() <= v {
                                self.dead_from.resize(v + 1, None);
                            }
                            let from = self.dead_from[v].map_or(pos, |f| f.min(pos));
                            self.dead_from[v] = Some(from);
                            false
                        }
                    }
                }
                Inst::Split(first, second) => {
                    self.stack.push(Backtrack::Resume { pc: second, pos });
                    pc = first;
                    true
                }
                Inst::Jump(to) => {
                    pc = to;
                    true
                }
                Inst::Save(slot) => {
                    self.stack.push(Backtrack::Restore {
                        slot,
                        value: self.slots[slot],
                    });
                    self.slots[slot] = pos;
                    pc += 1;
                    true
                }
                Inst::Progress(slot) => {
                    pc += 1;
                    self.slots[slot] != pos
                }
                Inst::Start => {
                    pc += 1;
                    pos == 0
                }
                Inst::End => {
                    pc += 1;
                    pos == len
                }
                Inst::Match => return Ok(Some(pos)),
            };
            if ok {
                continue;
            }
            loop {
                match self.stack.pop() {
                    None => return Ok(None),
                    Some(Backtrack::Restore { slot, value }) => self.slots[slot] = value,
                    Some(Backtrack::Resume { pc: p, pos: q }) => {
                        // Verdicts made after row `q` assumed rows this path remaps.
                        for dead in &mut self.dead_from {
                            if dead.is_some_and(|from| from > q) {
                                *dead = None;
                            }
                        }
                        self.mapped.truncate(q - start);
                        if self.doomed(p, q, start, &*conditions) {
                            continue;
                        }
                        pc = p;
                        pos = q;
                        break;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::dialect::GenericDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    /// Conditions from a per-variable set of row labels: row `i` may be variable `v` when
    /// `rows[i]` contains `v`'s name's first letter.
    struct Letters<'a>(&'a [&'a str], &'a [String]);

    impl Conditions for Letters<'_> {
        fn holds(&mut self, var: usize, row: usize, _: usize, _: &[usize]) -> Result<Verdict> {
            let name = &self.1[var];
            Ok(if name == "any" || self.0[row].contains(name.as_str()) {
                Verdict::Holds
            } else {
                Verdict::Fails
            })
        }
    }

    /// `a` on rows divisible by 50, `b` on rows divisible by 7 within `window` rows after
    /// the last `a`, `c` on rows divisible by 11 within `window` rows after the last `b`;
    /// anything else always. With `onward`, a row past a window says so.
    struct Windows {
        names: Vec<String>,
        window: usize,
        onward: bool,
        asked: usize,
        refs: Vec<Vec<usize>>,
    }

    impl Windows {
        fn new(names: Vec<String>, window: usize, onward: bool) -> Self {
            let index = |n: &str| names.iter().position(|m| m == n).unwrap();
            let refs = names
                .iter()
                .map(|n| match n.as_str() {
                    "b" => vec![index("a")],
                    "c" => vec![index("b")],
                    _ => Vec::new(),
                })
                .collect();
            Windows {
                names,
                window,
                onward,
                asked: 0,
                refs,
            }
        }
    }

    impl Conditions for Windows {
        fn holds(
            &mut self,
            var: usize,
            row: usize,
            start: usize,
            mapped: &[usize],
        ) -> Result<Verdict> {
            self.asked += 1;
            let last = |name: &str| {
                let v = self.names.iter().position(|m| m == name).unwrap();
                mapped.iter().rposition(|&m| m == v).map(|i| start + i)
            };
            let (divisor, after) = match self.names[var].as_str() {
                "a" => {
                    return Ok(if row.is_multiple_of(50) {
                        Verdict::Holds
                    } else {
                        Verdict::Fails
                    });
                }
                "b" => (7, last("a")),
                "c" => (11, last("b")),
                _ => return Ok(Verdict::Holds),
            };
            let Some(after) = after else {
                return Ok(Verdict::Fails);
            };
            Ok(if row > after + self.window {
                if self.onward {
                    Verdict::FailsOnward
                } else {
                    Verdict::Fails
                }
            } else if row.is_multiple_of(divisor) {
                Verdict::Holds
            } else {
                Verdict::Fails
            })
        }

        fn onward_refs(&self, var: usize) -> &[usize] {
            &self.refs[var]
        }
    }

    #[test]
    fn verdicts_that_hold_onward_cut_the_search() {
        // The cut applies where every way on must try the failing variable first without
        // remapping what it depends on: not when `a` may come again, nor when `y` may stand in
        // for `b`, nor after a greedy gap (which reaches the end first); those are searched
        // in full, and all must answer alike.
        let cases = [
            ("a x*? b y*? c", true),
            ("a x* b y*? c", false),
            ("a x*? a? b y*? c", false),
            ("a x*? (b | y)+? c", false),
        ];
        for (pattern, cut) in cases {
            for window in [3, 9, 30] {
                let (p, names) = parse(pattern);
                let program = p.compile().unwrap();
                // Searches without the cut are quadratic: keep them short.
                let len = if cut { 3000 } else { 400 };
                let mut answers = Vec::new();
                let mut asked = Vec::new();
                for onward in [false, true] {
                    let mut m = Matcher::new(&program);
                    let mut conditions = Windows::new(names.clone(), window, onward);
                    let found: Vec<_> = (0..len)
                        .map(|start| {
                            let end = m.find(start, len, &mut conditions).unwrap();
                            end.map(|end| (end, m.mapped.clone()))
                        })
                        .collect();
                    answers.push(found);
                    asked.push(conditions.asked);
                }
                assert_eq!(answers[0], answers[1], "{pattern} window {window}");
                assert!(
                    answers[0].iter().any(Option::is_some),
                    "{pattern} window {window}: some match"
                );
                // Without the cut every start whose `b` or `c` misses its window walks to
                // the end of the partition; a 30-row window never misses.
                if cut && window < 30 {
                    assert!(asked[1] * 5 < asked[0], "{pattern} {window}: {asked:?}");
                } else {
                    assert!(asked[1] <= asked[0], "{pattern} {window}: {asked:?}");
                }
            }
        }
    }

    fn parse(pattern: &str) -> (Pattern, Vec<String>) {
        let sql = format!(
            "SELECT * FROM t MATCH_RECOGNIZE (ORDER BY x PATTERN ({pattern}) DEFINE a AS true)"
        );
        let statements = Parser::parse_sql(&GenericDialect {}, &sql).unwrap();
        let text = format!("{:?}", statements[0]);
        assert!(text.contains("MatchRecognize"), "{text}");
        let datafusion::sql::sqlparser::ast::Statement::Query(query) = &statements[0] else {
            panic!()
        };
        let datafusion::sql::sqlparser::ast::SetExpr::Select(select) = query.body.as_ref() else {
            panic!()
        };
        let datafusion::sql::sqlparser::ast::TableFactor::MatchRecognize { pattern, .. } =
            &select.from[0].relation
        else {
            panic!()
        };
        let mut names = Vec::new();
        let p = Pattern::from_sql(pattern, &|i| i.value.to_lowercase(), &mut names).unwrap();
        (p, names)
    }

    /// The preferred match from `start`, as the variable of each row.
    fn run(pattern: &str, rows: &[&str], start: usize) -> Option<Vec<String>> {
        let (p, names) = parse(pattern);
        let program = p.compile().unwrap();
        let mut m = Matcher::new(&program);
        let end = m
            .find(start, rows.len(), &mut Letters(rows, &names))
            .unwrap()?;
        assert_eq!(end - start, m.mapped.len());
        Some(m.mapped.iter().map(|&v| names[v].clone()).collect())
    }

    #[test]
    fn greedy_and_reluctant() {
        let rows = ["a", "a", "a", "b"];
        assert_eq!(run("a+", &rows, 0).unwrap(), ["a", "a", "a"]);
        assert_eq!(run("a+?", &rows, 0).unwrap(), ["a"]);
        assert_eq!(run("a*?", &rows, 0).unwrap(), Vec::<String>::new());
        assert_eq!(run("a*? b", &rows, 0).unwrap(), ["a", "a", "a", "b"]);
        assert_eq!(run("a{2}", &rows, 0).unwrap(), ["a", "a"]);
        assert_eq!(run("a{1,2}? b", &rows, 1).unwrap(), ["a", "a", "b"]);
        assert_eq!(run("a{,2}", &rows, 0).unwrap(), ["a", "a"]);
        assert_eq!(run("a{4,}", &rows, 0), None);
        assert_eq!(run("a??", &rows, 0).unwrap(), Vec::<String>::new());
        // With parentheses, `(a*)?` is an optional greedy star, not a reluctant one.
        assert_eq!(run("(a*)?", &rows, 0).unwrap(), ["a", "a", "a"]);
    }

    #[test]
    fn alternation_prefers_the_left_and_backtracks() {
        let rows = ["ab", "b", "c"];
        assert_eq!(run("a | b", &rows, 0).unwrap(), ["a"]);
        assert_eq!(run("b | a", &rows, 0).unwrap(), ["b"]);
        // `a` is preferred for row 0, but only `b b c` completes the pattern.
        assert_eq!(run("(a | b) b c", &rows, 0).unwrap(), ["a", "b", "c"]);
        assert_eq!(run("(a | b)+ c", &rows, 0).unwrap(), ["a", "b", "c"]);
        assert_eq!(run("a b b", &rows, 0), None);
    }

    #[test]
    fn anchors_and_empty_loops() {
        let rows = ["a", "a", "b"];
        assert_eq!(run("^ a", &rows, 1), None);
        assert_eq!(run("^ a", &rows, 0).unwrap(), ["a"]);
        assert_eq!(run("b $", &rows, 2).unwrap(), ["b"]);
        assert_eq!(run("a $", &rows, 1), None);
        // A loop whose body can match nothing ends instead of spinning.
        assert_eq!(run("(a?)* b", &rows, 0).unwrap(), ["a", "a", "b"]);
        assert_eq!(run("(b?)*", &rows, 0).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn refused_forms_are_named() {
        let sql =
            "SELECT * FROM t MATCH_RECOGNIZE (ORDER BY x PATTERN (PERMUTE(a, b)) DEFINE a AS true)";
        let statements = Parser::parse_sql(&GenericDialect {}, sql).unwrap();
        let text = format!("{:?}", statements[0]);
        assert!(text.contains("Permute"));
        let bad = MatchRecognizePattern::Permute(vec![]);
        let err = Pattern::from_sql(&bad, &|i| i.value.clone(), &mut Vec::new()).unwrap_err();
        assert!(
            err.to_string().contains("PERMUTE is not supported"),
            "{err}"
        );
        let err = Pattern::from_sql(
            &MatchRecognizePattern::Repetition(
                Box::new(MatchRecognizePattern::Symbol(MatchRecognizeSymbol::Named(
                    "a".into(),
                ))),
                RepetitionQuantifier::Range(3, 1),
            ),
            &|i| i.value.clone(),
            &mut Vec::new(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("upper bound below"), "{err}");
    }
}
