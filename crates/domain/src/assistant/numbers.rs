//! Finds the numbers a person would read as figures in a model's answer.
//!
//! Written for English and Brazilian Portuguese prose:
//!
//! - Grouping and decimal marks both ways: `1,234.56`, `1.234,56`,
//!   `1234.5`, `0,5`. A single mark followed by exactly three digits
//!   (`1,234`, `1.234`) is ambiguous and yields both readings (1234 and
//!   1.234); any reading may match a figure. Marks in the wrong places
//!   (`1.2.3`) are not a number and are left alone.
//! - Signs: `-12.5` and `−12.5` (a hyphen glued to a word or a digit is not
//!   a sign). Markers: `%`, `pp`, "por cento", "percent" (percent);
//!   `R$`, `US$`, `$`, `€`, `£`, `BRL`/`USD`/`EUR`/`GBP`, "reais", "dollars"
//!   (money); multipliers `k`, `mil`, "thousand", `mi`/`M`, "milhões",
//!   "million", `bi`/`B`, "bilhões", "billion"; a glued `x` (3.2x) is allowed.
//! - Not figures, so skipped: dates and times (`2026-11-23`, `2026-W47`,
//!   `23/11/2026`, `11/23`, `14:30`, a day or year next to a month name as in
//!   `23 de novembro de 2026`, `Nov 1–7, 2026`, a year after
//!   "em/in/since/desde/até/until"), durations (`7 dias`, `30 days`, `24h`),
//!   ordinals (`1st`, `2º`, `#3`, a list marker `1.` or `1)` opening a line),
//!   numbers glued to letters (`W47`, `Q4`, `v1.2.3`, `10am`), numbers after
//!   "week/semana/dia/day/page/página" and everything inside URLs or inside
//!   the names the caller passes (campaign names).
//! - Month abbreviations that are also words (`may`, `mar`, `set`, `out`)
//!   count as months only when capitalised.

use std::str::FromStr;

use rust_decimal::Decimal;

/// A number as read in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TextNumber {
    /// The number as written, with its sign, currency and suffix.
    pub written: String,
    /// The possible unsigned values as written (scale = decimals written).
    pub readings: Vec<Decimal>,
    pub negative: bool,
    /// 1, or 1 000 / 1 000 000 / 1 000 000 000 for `k`, `mi`, `bi`…
    pub multiplier: Decimal,
    pub percent: bool,
    pub money: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Num { raw: String },
    Date,
    Word(String),
    Sym(char),
}

#[derive(Debug, Clone)]
struct Tok {
    kind: Kind,
    start: usize,
    end: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Keep,
    Skip,
    Date,
}

const THOUSAND: Decimal = Decimal::ONE_THOUSAND;

fn million() -> Decimal {
    Decimal::from(1_000_000_u32)
}
fn billion() -> Decimal {
    Decimal::from(1_000_000_000_u32)
}

/// Every number of `text` that must be a figure, in order. Text inside URLs
/// and inside any of `names` (matched case-insensitively) is ignored.
pub(crate) fn numbers_in(text: &str, names: &[&str]) -> Vec<TextNumber> {
    let mut c: Vec<char> = text.chars().collect();
    blank_urls(&mut c);
    for name in names {
        blank_name(&mut c, name);
    }
    let toks = tokenize(&c);
    let mut class: Vec<Class> = toks.iter().map(|_| Class::Keep).collect();
    let mut found: Vec<(usize, TextNumber)> = Vec::new();
    for (k, t) in toks.iter().enumerate() {
        if let Kind::Num { raw } = &t.kind {
            match classify(&c, &toks, k, raw) {
                Ok(n) => found.push((k, n)),
                Err(cl) => class[k] = cl,
            }
        } else if t.kind == Kind::Date {
            class[k] = Class::Date;
        }
    }
    propagate_dates(&toks, &mut class, &found);
    found
        .into_iter()
        .filter(|(k, _)| class[*k] == Class::Keep)
        .map(|(_, n)| n)
        .collect()
}

// ------------------------------------------------------------------ blanking

fn lower(ch: char) -> char {
    ch.to_lowercase().next().unwrap_or(ch)
}

fn blank_urls(c: &mut [char]) {
    let mut i = 0;
    while i < c.len() {
        let rest = |p: &str| {
            let p: Vec<char> = p.chars().collect();
            c.len() >= i + p.len() && c[i..i + p.len()].iter().map(|x| lower(*x)).eq(p)
        };
        if rest("http://") || rest("https://") || rest("www.") {
            while i < c.len() && !c[i].is_whitespace() {
                c[i] = ' ';
                i += 1;
            }
        } else {
            i += 1;
        }
    }
}

fn blank_name(c: &mut [char], name: &str) {
    let n: Vec<char> = name.trim().chars().map(lower).collect();
    if n.is_empty() || n.len() > c.len() {
        return;
    }
    let mut i = 0;
    while i + n.len() <= c.len() {
        if c[i..i + n.len()]
            .iter()
            .map(|x| lower(*x))
            .eq(n.iter().copied())
        {
            for x in &mut c[i..i + n.len()] {
                *x = ' ';
            }
            i += n.len();
        } else {
            i += 1;
        }
    }
}

// ------------------------------------------------------------------ tokens

fn digits_at(c: &[char], i: usize) -> usize {
    c.get(i..)
        .map_or(0, |s| s.iter().take_while(|x| x.is_ascii_digit()).count())
}

fn at(c: &[char], i: usize, ch: char) -> bool {
    c.get(i) == Some(&ch)
}

/// Length of a date or time starting at `i`, if one does.
fn date_len(c: &[char], i: usize) -> Option<usize> {
    let d = digits_at(c, i);
    if d == 4 && at(c, i + 4, '-') {
        let j = i + 5;
        if matches!(c.get(j), Some('W' | 'w')) && (1..=2).contains(&digits_at(c, j + 1)) {
            let mut end = j + 1 + digits_at(c, j + 1);
            if at(c, end, '-') && digits_at(c, end + 1) == 1 {
                end += 2;
            }
            return Some(end - i);
        }
        let m = digits_at(c, j);
        if (1..=2).contains(&m) {
            let mut end = j + m;
            if at(c, end, '-') && (1..=2).contains(&digits_at(c, end + 1)) {
                end += 1 + digits_at(c, end + 1);
                if at(c, end, 'T') && digits_at(c, end + 1) > 0 {
                    end += 1;
                    while c
                        .get(end)
                        .is_some_and(|x| x.is_ascii_digit() || matches!(x, ':' | '.' | 'Z'))
                    {
                        end += 1;
                    }
                }
            }
            return Some(end - i);
        }
    }
    if d == 4 && at(c, i + 4, '/') {
        let m = digits_at(c, i + 5);
        if (1..=2).contains(&m) && at(c, i + 5 + m, '/') {
            let dd = digits_at(c, i + 6 + m);
            if (1..=2).contains(&dd) {
                return Some(6 + m + dd);
            }
        }
    }
    if (1..=2).contains(&d) {
        if at(c, i + d, '/') {
            let m = digits_at(c, i + d + 1);
            if (1..=2).contains(&m) {
                let mut end = i + d + 1 + m;
                let y = digits_at(c, end + 1);
                if at(c, end, '/') && (y == 2 || y == 4) {
                    end += 1 + y;
                }
                return Some(end - i);
            }
        }
        if at(c, i + d, ':') && digits_at(c, i + d + 1) == 2 {
            let mut end = i + d + 3;
            if at(c, end, ':') && digits_at(c, end + 1) == 2 {
                end += 3;
            }
            return Some(end - i);
        }
    }
    None
}

fn tokenize(c: &[char]) -> Vec<Tok> {
    let mut toks = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch.is_whitespace() {
            i += 1;
        } else if ch.is_alphabetic() || ch == '_' {
            let start = i;
            let mut has_digit = false;
            loop {
                while c.get(i).is_some_and(|x| x.is_alphanumeric() || *x == '_') {
                    has_digit |= c[i].is_ascii_digit();
                    i += 1;
                }
                // `v1.2.3`, `W47-2`: an identifier with digits goes on.
                let joiner = matches!(c.get(i), Some('.' | '-' | '/'));
                if has_digit && joiner && c.get(i + 1).is_some_and(|x| x.is_alphanumeric()) {
                    i += 1;
                } else {
                    break;
                }
            }
            toks.push(Tok {
                kind: Kind::Word(c[start..i].iter().collect()),
                start,
                end: i,
            });
        } else if ch.is_ascii_digit() {
            let start = i;
            if let Some(len) = date_len(c, i) {
                i += len;
                toks.push(Tok {
                    kind: Kind::Date,
                    start,
                    end: i,
                });
                continue;
            }
            i += digits_at(c, i);
            while matches!(c.get(i), Some('.' | ',')) && digits_at(c, i + 1) > 0 {
                i += 1 + digits_at(c, i + 1);
            }
            toks.push(Tok {
                kind: Kind::Num {
                    raw: c[start..i].iter().collect(),
                },
                start,
                end: i,
            });
        } else {
            toks.push(Tok {
                kind: Kind::Sym(ch),
                start: i,
                end: i + 1,
            });
            i += 1;
        }
    }
    toks
}

// ------------------------------------------------------------------ readings

fn valid_groups(parts: &[&str]) -> bool {
    parts
        .first()
        .is_some_and(|p| (1..=3).contains(&p.len()) && !p.starts_with('0'))
        && parts.iter().skip(1).all(|p| p.len() == 3)
}

fn dec(int: &str, frac: Option<&str>) -> Option<Decimal> {
    let s = match frac {
        Some(f) => format!("{int}.{f}"),
        None => int.to_owned(),
    };
    Decimal::from_str(&s).ok()
}

/// The possible values of digits with `.`/`,` marks (see the module docs).
fn readings(raw: &str) -> Option<Vec<Decimal>> {
    let dots = raw.matches('.').count();
    let commas = raw.matches(',').count();
    match (dots, commas) {
        (0, 0) => dec(raw, None).map(|d| vec![d]),
        (n, 0) | (0, n) => {
            let sep = if dots > 0 { '.' } else { ',' };
            let parts: Vec<&str> = raw.split(sep).collect();
            if n > 1 {
                return valid_groups(&parts)
                    .then(|| dec(&parts.concat(), None))
                    .flatten()
                    .map(|d| vec![d]);
            }
            let (a, b) = (parts.first()?, parts.get(1)?);
            let decimal = dec(a, Some(b))?;
            if b.len() == 3 && valid_groups(&parts) {
                let grouped = dec(&parts.concat(), None)?;
                Some(vec![decimal, grouped])
            } else {
                Some(vec![decimal])
            }
        }
        _ => {
            let last = raw.rfind(['.', ','])?;
            let dsep = raw[last..].chars().next()?;
            let gsep = if dsep == '.' { ',' } else { '.' };
            let (int, frac) = (&raw[..last], &raw[last + 1..]);
            if int.contains(dsep) {
                return None;
            }
            let groups: Vec<&str> = int.split(gsep).collect();
            if !valid_groups(&groups) {
                return None;
            }
            dec(&groups.concat(), Some(frac)).map(|d| vec![d])
        }
    }
}

// ------------------------------------------------------------------ context

const MONTHS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "janeiro",
    "fevereiro",
    "março",
    "marco",
    "abril",
    "maio",
    "junho",
    "julho",
    "agosto",
    "setembro",
    "outubro",
    "novembro",
    "dezembro",
    "fev",
    "abr",
    "mai",
    "ago",
    "dez",
];
/// Month abbreviations that are also ordinary words: months only when capitalised.
const AMBIGUOUS_MONTHS: &[&str] = &["mar", "set", "out"];

fn is_month(word: &str) -> bool {
    let l = word.to_lowercase();
    if l == "may" || AMBIGUOUS_MONTHS.contains(&l.as_str()) {
        return word.chars().next().is_some_and(char::is_uppercase);
    }
    MONTHS.contains(&l.as_str())
}

const DURATIONS: &[&str] = &[
    "day", "days", "dia", "dias", "week", "weeks", "semana", "semanas", "month", "months", "mês",
    "mes", "meses", "year", "years", "ano", "anos", "hour", "hours", "hora", "horas", "minute",
    "minutes", "minuto", "minutos", "second", "seconds", "segundo", "segundos", "h", "hr", "hrs",
    "min", "mins", "d", "s", "seg", "ms", "w", "y", "mo",
];
/// Words after which a number is a position, not a figure.
const POSITION_WORDS: &[&str] = &[
    "week", "semana", "day", "dia", "page", "página", "pagina", "version", "versão", "versao",
];
/// Words after which a year is a year.
const YEAR_WORDS: &[&str] = &[
    "em", "in", "since", "desde", "until", "até", "ate", "ano", "year",
];
const MONEY_WORDS: &[&str] = &[
    "reais", "real", "dólares", "dolares", "dólar", "dolar", "dollars", "dollar", "euros", "euro",
    "brl", "usd", "eur", "gbp",
];
const MONEY_CODES: &[&str] = &["BRL", "USD", "EUR", "GBP", "R", "US"];

fn multiplier_word(w: &str) -> Option<Decimal> {
    match w {
        "k" | "mil" | "thousand" => Some(THOUSAND),
        "m" | "mi" | "mm" | "mn" | "milhão" | "milhao" | "milhões" | "milhoes" | "million"
        | "millions" => Some(million()),
        "b" | "bi" | "bn" | "bilhão" | "bilhao" | "bilhões" | "bilhoes" | "billion"
        | "billions" => Some(billion()),
        _ => None,
    }
}

fn word(t: Option<&Tok>) -> Option<&str> {
    match t.map(|t| &t.kind) {
        Some(Kind::Word(w)) => Some(w.as_str()),
        _ => None,
    }
}

fn sym(t: Option<&Tok>) -> Option<char> {
    match t.map(|t| &t.kind) {
        Some(Kind::Sym(s)) => Some(*s),
        _ => None,
    }
}

fn is_year(raw: &str) -> bool {
    raw.len() == 4 && raw.parse::<u32>().is_ok_and(|y| (1900..=2100).contains(&y))
}

fn is_day(raw: &str) -> bool {
    raw.parse::<u32>().is_ok_and(|d| (1..=31).contains(&d))
}

/// The number token `k` as a [`TextNumber`], or why it is not a figure.
fn classify(c: &[char], toks: &[Tok], k: usize, raw: &str) -> Result<TextNumber, Class> {
    let t = &toks[k];
    let (s, mut e) = (t.start, t.end);
    let Some(readings) = readings(raw) else {
        return Err(Class::Skip);
    };
    let integer = !raw.contains(['.', ',']);
    let mut n = TextNumber {
        written: String::new(),
        readings,
        negative: false,
        multiplier: Decimal::ONE,
        percent: false,
        money: false,
    };
    let prev = k.checked_sub(1).and_then(|p| toks.get(p));
    let next = toks.get(k + 1);
    let glued_next = next.is_some_and(|x| x.start == e) && word(next).is_some();

    // Glued suffix: 3.2x, 1.5k, 1st, 24h, 10am.
    if glued_next && let Some(w) = word(next) {
        let l = w.to_lowercase();
        if l == "x" {
            e += 1;
        } else if l == "pp" {
            n.percent = true;
            e += 2;
        } else if let Some(m) = multiplier_word(&l) {
            n.multiplier = m;
            e += w.chars().count();
        } else {
            // Ordinals (1st, 2º), durations (24h, 7d) and identifiers (10am).
            return Err(Class::Skip);
        }
    }

    // Position in the line: a list marker `1.` / `1)` opening a line.
    let line_start = c[..s]
        .iter()
        .rev()
        .take_while(|x| **x != '\n')
        .all(|x| x.is_whitespace() || matches!(x, '#' | '*' | '-' | '>' | '+'));
    if line_start
        && integer
        && matches!(c.get(t.end), Some('.' | ')'))
        && c.get(t.end + 1).is_none_or(|x| x.is_whitespace())
    {
        return Err(Class::Skip);
    }
    if s > 0 && c[s - 1] == '#' {
        return Err(Class::Skip);
    }

    // After the number (separated by spaces): %, multiplier, unit words.
    let mut after = k + 1;
    if glued_next {
        after += 1;
    }
    if sym(toks.get(after)) == Some('%') && toks.get(after).is_some_and(|x| x.start - e <= 1) {
        n.percent = true;
        e = toks[after].end;
        after += 1;
    }
    if let Some(w) = word(toks.get(after)) {
        let l = w.to_lowercase();
        let following = word(toks.get(after + 1)).map(str::to_lowercase);
        let following = following.as_deref();
        if !n.percent && !glued_next && DURATIONS.contains(&l.as_str()) && integer {
            return Err(Class::Skip);
        }
        if integer
            && is_day(raw)
            && (is_month(w)
                || (matches!(l.as_str(), "de" | "of")
                    && word(toks.get(after + 1)).is_some_and(is_month)))
        {
            return Err(Class::Date);
        }
        if let Some(m) = multiplier_word(&l).filter(|_| !glued_next && l != "m" && l != "b") {
            n.multiplier = m;
            e = toks[after].end;
        } else if l == "percent" || l == "pp" || l == "percentage" {
            n.percent = true;
            e = toks[after].end;
        } else if (l == "por" && following == Some("cento"))
            || (l == "pontos" && following == Some("percentuais"))
        {
            n.percent = true;
            e = toks[after + 1].end;
        } else if MONEY_WORDS.contains(&l.as_str()) {
            n.money = true;
            e = toks[after].end;
        }
    }

    // Before the number: sign, currency, context words.
    let mut ws = s;
    let mut p = k; // index of the first token before the number not yet examined
    let sign_at = |i: usize| {
        i < c.len() && matches!(c[i], '-' | '−') && (i == 0 || !(c[i - 1].is_alphanumeric()))
    };
    if s > 0 && sign_at(s - 1) {
        n.negative = true;
        ws = s - 1;
        p = p.saturating_sub(1);
    }
    // Currency: `R$ 1`, `US$1`, `$1`, `€ 1`, `BRL 1`, `-R$ 1`.
    let before = p.checked_sub(1).and_then(|i| toks.get(i));
    if let Some(b) = before {
        let near = ws - b.end <= 1;
        match &b.kind {
            Kind::Sym('$' | '€' | '£' | '¥') if near => {
                n.money = true;
                ws = b.start;
                let pre = p.checked_sub(2).and_then(|i| toks.get(i));
                if let Some(Kind::Word(w)) = pre.map(|x| &x.kind)
                    && pre.is_some_and(|x| x.end == b.start)
                    && MONEY_CODES.contains(&w.as_str())
                {
                    ws = pre.map_or(ws, |x| x.start);
                }
            }
            Kind::Word(w) if near && MONEY_CODES.contains(&w.as_str()) && w.len() == 3 => {
                n.money = true;
                ws = b.start;
            }
            _ => {}
        }
        if n.money && !n.negative && ws > 0 && sign_at(ws - 1) {
            n.negative = true;
            ws -= 1;
        }
    }
    if let Some(w) = word(prev) {
        let l = w.to_lowercase();
        if POSITION_WORDS.contains(&l.as_str()) && integer {
            return Err(Class::Skip);
        }
        if is_month(w) && integer && (is_day(raw) || is_year(raw)) {
            return Err(Class::Date);
        }
        if YEAR_WORDS.contains(&l.as_str()) && is_year(raw) {
            return Err(Class::Date);
        }
        if matches!(l.as_str(), "de" | "of")
            && integer
            && (is_day(raw) || is_year(raw))
            && word(k.checked_sub(2).and_then(|i| toks.get(i))).is_some_and(is_month)
        {
            return Err(Class::Date);
        }
    }
    n.written = c[ws..e.min(c.len())].iter().collect();
    Ok(n)
}

/// Days and years next to a date: `Nov 1–7`, `1 a 7 de novembro`,
/// `23 de novembro de 2026`, `Nov 23, 2026`.
fn propagate_dates(toks: &[Tok], class: &mut [Class], found: &[(usize, TextNumber)]) {
    let raw = |k: usize| match &toks[k].kind {
        Kind::Num { raw } => Some(raw.as_str()),
        _ => None,
    };
    let connector = |t: &Tok| match &t.kind {
        Kind::Sym(c) => matches!(c, '-' | '–' | '—' | ','),
        Kind::Word(w) => matches!(
            w.to_lowercase().as_str(),
            "a" | "to" | "até" | "ate" | "e" | "and" | "de" | "of"
        ),
        _ => false,
    };
    let mut changed = true;
    while changed {
        changed = false;
        for (k, _) in found {
            let k = *k;
            if class[k] != Class::Keep {
                continue;
            }
            let Some(r) = raw(k) else { continue };
            if !(is_day(r) || is_year(r)) {
                continue;
            }
            let near_date = |j: Option<usize>, via: Option<usize>| {
                j.zip(via).is_some_and(|(j, v)| {
                    j < toks.len()
                        && v < toks.len()
                        && connector(&toks[v])
                        && class[j] == Class::Date
                })
            };
            let back = near_date(k.checked_sub(2), k.checked_sub(1));
            let fwd = near_date(Some(k + 2), Some(k + 1)) && is_day(r);
            if back || fwd {
                class[k] = Class::Date;
                changed = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn written(text: &str) -> Vec<String> {
        numbers_in(text, &[])
            .into_iter()
            .map(|n| n.written)
            .collect()
    }

    #[test]
    fn reads_english_and_brazilian_grouping() {
        assert_eq!(readings("1,234.56"), Some(vec![d("1234.56")]));
        assert_eq!(readings("1.234,56"), Some(vec![d("1234.56")]));
        assert_eq!(readings("1.234.567,8"), Some(vec![d("1234567.8")]));
        assert_eq!(readings("1,234,567"), Some(vec![d("1234567")]));
        assert_eq!(readings("12,5"), Some(vec![d("12.5")]));
        assert_eq!(readings("0,123"), Some(vec![d("0.123")]));
        assert_eq!(readings("1234.500"), Some(vec![d("1234.500")]));
        assert_eq!(readings("1.2.3"), None);
    }

    #[test]
    fn a_single_mark_before_three_digits_is_read_both_ways() {
        assert_eq!(readings("1,234"), Some(vec![d("1.234"), d("1234")]));
        assert_eq!(readings("1.234"), Some(vec![d("1.234"), d("1234")]));
    }

    #[test]
    fn keeps_written_precision() {
        let n = &numbers_in("CTR de 1,50%", &[])[0];
        assert_eq!(n.readings, vec![d("1.50")]);
        assert_eq!(n.readings[0].scale(), 2);
        assert!(n.percent);
        assert_eq!(n.written, "1,50%");
    }

    #[test]
    fn marks_money_percent_sign_and_multipliers() {
        let ns = numbers_in(
            "Gasto de R$ 1.234,56, -12,5% vs. $1,234 e -R$ 3,00; 1,2 mil cliques, 3.2x, 2.5k",
            &[],
        );
        let w: Vec<_> = ns.iter().map(|n| n.written.as_str()).collect();
        assert_eq!(
            w,
            [
                "R$ 1.234,56",
                "-12,5%",
                "$1,234",
                "-R$ 3,00",
                "1,2 mil",
                "3.2x",
                "2.5k"
            ]
        );
        assert!(ns[0].money && !ns[0].negative);
        assert!(ns[1].percent && ns[1].negative);
        assert!(ns[2].money);
        assert!(ns[3].money && ns[3].negative);
        assert_eq!(ns[4].multiplier, Decimal::ONE_THOUSAND);
        assert_eq!(ns[6].multiplier, Decimal::ONE_THOUSAND);
    }

    #[test]
    fn skips_dates_times_and_iso_weeks() {
        assert!(
            written("Em 2026-11-23 e na 2026-W47, às 14:30, de 23/11/2026 a 30/11.").is_empty()
        );
        assert!(written("de 1 a 7 de novembro de 2026").is_empty());
        assert!(written("Nov 1–7, 2026 and 23 November").is_empty());
        assert!(written("desde 2025, em 2026").is_empty());
        assert!(written("2026-11-23T10:00:00Z").is_empty());
    }

    #[test]
    fn skips_durations_ordinals_list_markers_and_identifiers() {
        let text =
            "1. Nos últimos 7 dias (24h)\n2) a 2ª campanha, #3, W47, Q4, v1.2.3\n  3. semana 47";
        assert!(written(text).is_empty());
    }

    #[test]
    fn a_list_marker_does_not_hide_the_figures_on_its_line() {
        assert_eq!(written("1. Gasto: R$ 10,00"), ["R$ 10,00"]);
    }

    #[test]
    fn a_bare_year_like_number_is_still_a_number() {
        assert_eq!(written("foram 2026 cliques"), ["2026"]);
    }

    #[test]
    fn skips_urls_and_given_names() {
        let ns = numbers_in(
            "A campanha Black Friday 2026 - 50% OFF gastou 10 (veja https://x.io/a/123).",
            &["Black Friday 2026 - 50% off"],
        );
        let w: Vec<_> = ns.into_iter().map(|n| n.written).collect();
        assert_eq!(w, ["10"]);
    }

    #[test]
    fn a_range_hyphen_is_not_a_sign() {
        let ns = numbers_in("entre 10-20 cliques", &[]);
        assert_eq!(ns.len(), 2);
        assert!(!ns[1].negative);
    }

    #[test]
    fn ambiguous_month_words_need_a_capital() {
        assert_eq!(written("3 out of 5"), ["3", "5"]);
        assert!(written("3 Out").is_empty());
    }

    #[test]
    fn currency_markers_with_or_without_space_and_as_words() {
        let ns = numbers_in(
            "R$1.234,56, 1.234,56 reais, US$ 1,234 e BRL 10 e +12,5%",
            &[],
        );
        let w: Vec<_> = ns.iter().map(|n| n.written.as_str()).collect();
        assert_eq!(
            w,
            [
                "R$1.234,56",
                "1.234,56 reais",
                "US$ 1,234",
                "BRL 10",
                "12,5%"
            ]
        );
        assert!(ns[..4].iter().all(|n| n.money));
        assert!(ns[4].percent && !ns[4].negative);
    }

    #[test]
    fn percent_and_multiplier_words() {
        let ns = numbers_in(
            "subiu 3 pontos percentuais, 12 por cento, R$ 1,2 milhões",
            &[],
        );
        assert!(ns[0].percent && ns[1].percent);
        assert_eq!(ns[2].multiplier, Decimal::from(1_000_000));
        assert_eq!(ns[2].written, "R$ 1,2 milhões");
    }
}
