//! [`Projection`]: computes select items that are arithmetic over merged
//! aggregates (`sum(x) + 1`, `sum(x) / count(*)`) in vtgate, after the
//! [`Aggregate`](crate::aggregate::Aggregate) (Vitess `engine/projection.go`
//! with its evalengine, reduced to what can be computed exactly).
//!
//! Types and values follow MySQL: `+ - *` of integers give BIGINT
//! (UNSIGNED when an operand is), an error when out of range; with a
//! DECIMAL operand the result is DECIMAL (scale: the larger for `+ -`, the
//! sum for `*`); `/` of exact values is DECIMAL with the dividend's scale +
//! 4 (`div_precision_increment`), NULL when dividing by zero; with a DOUBLE
//! operand everything is DOUBLE. Any NULL operand gives NULL. Operands of
//! other types (text, dates) are refused. As in MySQL, a quotient keeps the
//! digits `decimal_div` gives it ([`Dec::div_truncated`]) while it is an
//! operand, and only the value shown is rounded, half away from zero, to the
//! expression's scale.

use async_trait::async_trait;
use proto::query::{Field, QueryResult, Row, Type};
use sql::literal::{BindValue, BindVars};

use crate::aggregate::float_text;
use crate::bind::PlanValue;
use crate::decimal::{Dec, DIV_PRECISION_INCREMENT};
use crate::description::PlanDescription;
use crate::error::{EngineError, Result};
use crate::merge_sort::split;
use crate::primitive::Primitive;
use crate::route::truncate_columns;
use crate::vcursor::VCursor;

/// An arithmetic operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

impl ArithOp {
    /// The operator vtgate computes for `op`: `+`, `-`, `*`, and `/` only where `division`
    /// is allowed (the top of an expression, whose type then follows MySQL's division rules).
    pub(crate) fn from_sql(op: &sqlparser::ast::BinaryOperator, division: bool) -> Option<Self> {
        use sqlparser::ast::BinaryOperator as B;
        match op {
            B::Plus => Some(ArithOp::Add),
            B::Minus => Some(ArithOp::Sub),
            B::Multiply => Some(ArithOp::Mul),
            B::Divide if division => Some(ArithOp::Div),
            _ => None,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
        }
    }
}

/// An arithmetic expression over the columns of one row.
#[derive(Debug, Clone, PartialEq)]
pub enum Arith {
    /// A column of the row.
    Column(usize),
    /// A literal or bind variable.
    Value(PlanValue),
    /// `-a`.
    Neg(Box<Arith>),
    /// `a op b`.
    Binary(Box<Arith>, ArithOp, Box<Arith>),
    /// `a IS NOT NULL` (1 or 0, INT).
    IsNotNull(Box<Arith>),
    /// `a IS NULL` (1 or 0, INT).
    IsNull(Box<Arith>),
    /// `COALESCE(a, b, ...)` / `IFNULL(a, b)`: the first value not NULL.
    Coalesce(Vec<Arith>),
    /// `GREATEST(a, b, ...)` / `LEAST(a, b, ...)` of numbers: NULL when any
    /// argument is, else the largest (smallest) compared in the common type.
    Extreme(Pick, Vec<Arith>),
    /// `ROUND(a, n)` of an exact number, half away from zero; `n` fraction digits (tens,
    /// hundreds for negative `n`), an integer stays an integer.
    Round(Box<Arith>, i64),
    /// `CONCAT(a, b, ...)` of columns and literals: text, computed only as a whole
    /// [`Projection`] column (`projection/concat.rs`); refused inside arithmetic.
    Concat(Vec<Arith>),
}

/// Which end [`Arith::Extreme`] takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// `GREATEST`.
    Greatest,
    /// `LEAST`.
    Least,
}

impl Pick {
    fn name(self) -> &'static str {
        match self {
            Pick::Greatest => "greatest",
            Pick::Least => "least",
        }
    }
}

/// The static type of an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumType {
    Int { unsigned: bool },
    Decimal { scale: u32 },
    Double,
}

/// A value of an expression (`Null` is SQL NULL).
#[derive(Debug, Clone, Copy)]
enum Num {
    Null,
    Int(i128),
    Dec(Dec),
    Double(f64),
}

fn refuse(what: impl std::fmt::Display) -> EngineError {
    EngineError::unsupported(format!("arithmetic on {what} in vtgate"))
}

fn out_of_range(unsigned: bool) -> EngineError {
    let what = if unsigned {
        "BIGINT UNSIGNED"
    } else {
        "BIGINT"
    };
    EngineError::mysql(1690, "22003", format!("{what} value is out of range"))
}

fn field_type(f: &Field) -> Result<NumType> {
    use Type as T;
    Ok(
        match Type::try_from(f.r#type).map_err(|_| refuse(&f.name))? {
            T::Int8 | T::Int16 | T::Int24 | T::Int32 | T::Int64 | T::Year => {
                NumType::Int { unsigned: false }
            }
            T::Uint8 | T::Uint16 | T::Uint24 | T::Uint32 | T::Uint64 => {
                NumType::Int { unsigned: true }
            }
            T::Decimal => NumType::Decimal { scale: f.decimals },
            T::Float32 | T::Float64 => NumType::Double,
            other => return Err(refuse(format!("{} ({})", f.name, other.as_str_name()))),
        },
    )
}

fn literal_type(v: &BindValue) -> Result<NumType> {
    Ok(match v {
        BindValue::Int64(_) => NumType::Int { unsigned: false },
        BindValue::Uint64(_) => NumType::Int { unsigned: true },
        BindValue::Decimal(d) => NumType::Decimal {
            scale: d
                .split_once('.')
                .map_or(0, |(_, f)| u32::try_from(f.len()).unwrap_or(u32::MAX)),
        },
        BindValue::Float64(_) => NumType::Double,
        other if other.unsigned_in_numeric_context().is_some() => NumType::Int { unsigned: true },
        other => return Err(refuse(format!("the value {}", other.to_sql()))),
    })
}

fn scale_of(t: NumType) -> u32 {
    match t {
        NumType::Decimal { scale } => scale,
        _ => 0,
    }
}

/// The type of `a op b`.
fn binary_type(a: NumType, op: ArithOp, b: NumType) -> NumType {
    use NumType as N;
    match (a, op, b) {
        (N::Double, _, _) | (_, _, N::Double) => N::Double,
        (_, ArithOp::Div, _) => N::Decimal {
            scale: scale_of(a) + DIV_PRECISION_INCREMENT,
        },
        (N::Int { unsigned: x }, _, N::Int { unsigned: y }) => N::Int { unsigned: x || y },
        (_, ArithOp::Mul, _) => N::Decimal {
            scale: scale_of(a) + scale_of(b),
        },
        _ => N::Decimal {
            scale: scale_of(a).max(scale_of(b)),
        },
    }
}

fn parse_cell(cell: &[u8], t: NumType) -> Result<Num> {
    let bad = || {
        EngineError::BadResult(format!(
            "cannot read {:?} as a number",
            String::from_utf8_lossy(cell)
        ))
    };
    let text = std::str::from_utf8(cell).map_err(|_| bad())?.trim();
    Ok(match t {
        NumType::Int { .. } => Num::Int(text.parse().map_err(|_| bad())?),
        NumType::Decimal { .. } => Num::Dec(Dec::parse(text.as_bytes())?),
        NumType::Double => Num::Double(text.parse().map_err(|_| bad())?),
    })
}

fn to_dec(n: Num) -> Result<Dec> {
    match n {
        Num::Int(i) => Dec::parse(i.to_string().as_bytes()),
        Num::Dec(d) => Ok(d),
        _ => Err(EngineError::BadResult("not an exact number".into())),
    }
}

fn to_double(n: Num) -> Result<f64> {
    match n {
        Num::Int(i) => Ok(i as f64),
        Num::Dec(d) => d
            .to_text()
            .parse()
            .map_err(|_| EngineError::BadResult("bad decimal".into())),
        Num::Double(f) => Ok(f),
        Num::Null => Err(EngineError::BadResult("NULL operand".into())),
    }
}

impl Arith {
    /// The expression's type over input `fields`.
    fn typ(&self, fields: &[Field], vars: &BindVars) -> Result<NumType> {
        match self {
            Arith::Column(i) => field_type(
                fields
                    .get(*i)
                    .ok_or_else(|| EngineError::BadResult(format!("no column {i}")))?,
            ),
            // A bind variable's type is its value's.
            Arith::Value(v) => literal_type(&v.resolve(vars)?),
            Arith::Neg(a) => match a.typ(fields, vars)? {
                NumType::Int { unsigned: true } => Err(refuse("a negated unsigned value")),
                t => Ok(t),
            },
            Arith::Binary(a, op, b) => {
                Ok(binary_type(a.typ(fields, vars)?, *op, b.typ(fields, vars)?))
            }
            Arith::IsNotNull(_) | Arith::IsNull(_) => Ok(NumType::Int { unsigned: false }),
            // MariaDB's scale for ROUND(decimal, n) is n (`round(1.23, 5)` is 1.23000).
            Arith::Round(a, n) => match a.typ(fields, vars)? {
                NumType::Double => Err(refuse("ROUND of a DOUBLE")),
                NumType::Decimal { .. } => Ok(NumType::Decimal {
                    scale: u32::try_from((*n).max(0)).unwrap_or(u32::MAX),
                }),
                t => Ok(t),
            },
            Arith::Concat(_) => Err(refuse("CONCAT(...)")),
            Arith::Coalesce(args) => common_type(
                "COALESCE",
                args.iter().filter(|a| !a.is_null_literal()),
                fields,
                vars,
            ),
            Arith::Extreme(pick, args) => {
                if args.iter().any(Arith::is_null_literal) {
                    // MariaDB types `GREATEST(x, NULL)` as DOUBLE.
                    return Err(refuse(format!("{}(...) of NULL", pick.name())));
                }
                common_type(pick.name(), args.iter(), fields, vars)
            }
        }
    }

    /// Whether a division is part of the expression: its value as MySQL compares it has more
    /// digits than the value shown.
    pub(crate) fn divides(&self) -> bool {
        match self {
            Arith::Binary(_, ArithOp::Div, _) => true,
            Arith::Binary(a, _, b) => a.divides() || b.divides(),
            Arith::Neg(a) | Arith::IsNotNull(a) | Arith::IsNull(a) => a.divides(),
            // ROUND's value has the digits it shows.
            Arith::Round(..) => false,
            Arith::Coalesce(args) | Arith::Extreme(_, args) | Arith::Concat(args) => {
                args.iter().any(Arith::divides)
            }
            Arith::Column(_) | Arith::Value(_) => false,
        }
    }

    fn is_null_literal(&self) -> bool {
        matches!(self, Arith::Value(v) if v.is_null_literal())
    }

    /// The MySQL column type of an integer result: BIGINT, except that
    /// COALESCE keeps the widest of its integer arguments (a literal that
    /// fits 32 bits is INT).
    fn int_type(&self, fields: &[Field], vars: &BindVars) -> Result<Type> {
        use Type as T;
        let rank = |t: T| {
            [T::Int8, T::Int16, T::Int24, T::Int32, T::Int64]
                .iter()
                .position(|x| *x == t)
        };
        Ok(match self {
            Arith::Coalesce(_) | Arith::Extreme(..)
                if !matches!(self.typ(fields, vars)?, NumType::Int { .. }) =>
            {
                T::Int64
            }
            Arith::Coalesce(args) | Arith::Extreme(_, args) => {
                let mut widest = T::Int8;
                for a in args.iter().filter(|a| !a.is_null_literal()) {
                    let t = match a {
                        Arith::Column(i) => fields
                            .get(*i)
                            .and_then(|f| Type::try_from(f.r#type).ok())
                            .filter(|t| rank(*t).is_some())
                            .ok_or_else(|| refuse("this column type"))?,
                        Arith::Value(v) => match v.resolve(vars)? {
                            BindValue::Int64(i) if i32::try_from(i).is_ok() => T::Int32,
                            _ => T::Int64,
                        },
                        other => other.int_type(fields, vars)?,
                    };
                    if rank(t) > rank(widest) {
                        widest = t;
                    }
                }
                widest
            }
            // MariaDB types a NULL test INT.
            Arith::IsNotNull(_) | Arith::IsNull(_) => T::Int32,
            _ => T::Int64,
        })
    }

    fn eval(&self, row: &[Option<&[u8]>], fields: &[Field], vars: &BindVars) -> Result<Num> {
        Ok(match self {
            Arith::Column(i) => match row.get(*i).copied().flatten() {
                None => Num::Null,
                Some(cell) => parse_cell(cell, self.typ(fields, vars)?)?,
            },
            Arith::Value(v) => match v.resolve(vars)? {
                BindValue::Null => Num::Null,
                BindValue::Int64(i) => Num::Int(i128::from(i)),
                BindValue::Uint64(u) => Num::Int(i128::from(u)),
                BindValue::Decimal(d) => Num::Dec(Dec::parse(d.as_bytes())?),
                BindValue::Float64(f) => Num::Double(f.parse().map_err(|_| refuse(&f))?),
                other => match other.unsigned_in_numeric_context() {
                    Some(u) => Num::Int(i128::from(u)),
                    None => return Err(refuse(format!("the value {}", other.to_sql()))),
                },
            },
            Arith::Neg(a) => match a.eval(row, fields, vars)? {
                Num::Null => Num::Null,
                Num::Int(i) if i64::try_from(-i).is_err() => return Err(out_of_range(false)),
                Num::Int(i) => Num::Int(-i),
                Num::Dec(d) => Num::Dec(d.negated()),
                Num::Double(f) => Num::Double(-f),
            },
            Arith::Coalesce(args) => {
                let t = self.typ(fields, vars)?;
                let mut first = Num::Null;
                for a in args {
                    first = a.eval(row, fields, vars)?;
                    if !matches!(first, Num::Null) {
                        break;
                    }
                }
                in_type(first, t)?
            }
            Arith::Extreme(pick, args) => {
                let t = self.typ(fields, vars)?;
                let mut best: Option<Num> = None;
                for a in args {
                    let n = in_type(a.eval(row, fields, vars)?, t)?;
                    if matches!(n, Num::Null) {
                        return Ok(Num::Null);
                    }
                    let better = match best {
                        None => true,
                        Some(b) => {
                            let order = compare(n, b)?;
                            match pick {
                                Pick::Greatest => order.is_gt(),
                                Pick::Least => order.is_lt(),
                            }
                        }
                    };
                    if better {
                        best = Some(n);
                    }
                }
                best.unwrap_or(Num::Null)
            }
            Arith::Concat(_) => return Err(refuse("CONCAT(...)")),
            Arith::Round(a, n) => match a.eval(row, fields, vars)? {
                Num::Null => Num::Null,
                Num::Int(i) if *n >= 0 => Num::Int(i),
                Num::Int(i) => Num::Int(
                    Dec::from_int(i)
                        .round(*n)?
                        .integer()
                        .ok_or_else(|| out_of_range(false))?,
                ),
                Num::Dec(d) => Num::Dec(d.round(*n)?),
                Num::Double(_) => return Err(refuse("ROUND of a DOUBLE")),
            },
            Arith::IsNotNull(a) | Arith::IsNull(a) => {
                let null = match a.as_ref() {
                    Arith::Column(i) => row.get(*i).copied().flatten().is_none(),
                    a => matches!(a.eval(row, fields, vars)?, Num::Null),
                };
                Num::Int(i128::from(null == matches!(self, Arith::IsNull(_))))
            }
            Arith::Binary(a, op, b) => {
                let t = self.typ(fields, vars)?;
                let (x, y) = (a.eval(row, fields, vars)?, b.eval(row, fields, vars)?);
                if matches!(x, Num::Null) || matches!(y, Num::Null) {
                    return Ok(Num::Null);
                }
                apply(x, *op, y, t)?
            }
        })
    }

    fn describe(&self) -> String {
        match self {
            Arith::Column(i) => format!(":{i}"),
            Arith::Value(v) => v.describe(),
            Arith::Neg(a) => format!("-({})", a.describe()),
            Arith::Binary(a, op, b) => {
                format!("({} {} {})", a.describe(), op.symbol(), b.describe())
            }
            Arith::IsNotNull(a) => format!("{} is not null", a.describe()),
            Arith::Round(a, n) => format!("round({}, {n})", a.describe()),
            Arith::IsNull(a) => format!("{} is null", a.describe()),
            Arith::Coalesce(args) => {
                let args: Vec<String> = args.iter().map(Arith::describe).collect();
                format!("coalesce({})", args.join(", "))
            }
            Arith::Concat(args) => {
                let args: Vec<String> = args.iter().map(Arith::describe).collect();
                format!("concat({})", args.join(", "))
            }
            Arith::Extreme(pick, args) => {
                let args: Vec<String> = args.iter().map(Arith::describe).collect();
                format!("{}({})", pick.name(), args.join(", "))
            }
        }
    }
}

/// The type MySQL gives `COALESCE` or `GREATEST` over `args` (named `what`):
/// the common type of `+`. Unsigned values are refused (MySQL mixes them with
/// signed ones into DECIMAL).
fn common_type<'a>(
    what: &str,
    args: impl Iterator<Item = &'a Arith>,
    fields: &[Field],
    vars: &BindVars,
) -> Result<NumType> {
    let mut t: Option<NumType> = None;
    for a in args {
        let at = a.typ(fields, vars)?;
        if matches!(at, NumType::Int { unsigned: true }) {
            return Err(refuse(format!("{what} of an unsigned value")));
        }
        t = Some(match t {
            None => at,
            Some(t) => binary_type(t, ArithOp::Add, at),
        });
    }
    t.ok_or_else(|| refuse(format!("{what} of NULLs")))
}

/// `n` as a value of type `t` (NULL stays NULL).
fn in_type(n: Num, t: NumType) -> Result<Num> {
    Ok(match (n, t) {
        (Num::Null, _) => Num::Null,
        (n, NumType::Double) => Num::Double(to_double(n)?),
        (n, NumType::Decimal { .. }) => Num::Dec(to_dec(n)?),
        (n, NumType::Int { .. }) => n,
    })
}

/// The order of two non-NULL values already in one type.
fn compare(x: Num, y: Num) -> Result<std::cmp::Ordering> {
    match (x, y) {
        (Num::Int(a), Num::Int(b)) => Ok(a.cmp(&b)),
        (Num::Dec(a), Num::Dec(b)) => Ok(a.cmp_value(b)),
        (Num::Double(a), Num::Double(b)) => a
            .partial_cmp(&b)
            .ok_or_else(|| EngineError::BadResult("NaN".into())),
        _ => Err(EngineError::BadResult("values of two types".into())),
    }
}

/// `x op y` for non-NULL operands, giving a value of type `t`.
fn apply(x: Num, op: ArithOp, y: Num, t: NumType) -> Result<Num> {
    Ok(match t {
        NumType::Double => {
            let (x, y) = (to_double(x)?, to_double(y)?);
            match op {
                ArithOp::Add => Num::Double(x + y),
                ArithOp::Sub => Num::Double(x - y),
                ArithOp::Mul => Num::Double(x * y),
                ArithOp::Div if y == 0.0 => Num::Null,
                ArithOp::Div => Num::Double(x / y),
            }
        }
        NumType::Int { unsigned } => {
            let (Num::Int(x), Num::Int(y)) = (x, y) else {
                return Err(EngineError::BadResult("integer operands expected".into()));
            };
            let v = match op {
                ArithOp::Add => x.checked_add(y),
                ArithOp::Sub => x.checked_sub(y),
                ArithOp::Mul => x.checked_mul(y),
                ArithOp::Div => None,
            }
            .ok_or_else(|| out_of_range(unsigned))?;
            let fits = if unsigned {
                u64::try_from(v).is_ok()
            } else {
                i64::try_from(v).is_ok()
            };
            if !fits {
                return Err(out_of_range(unsigned));
            }
            Num::Int(v)
        }
        NumType::Decimal { .. } => {
            let (x, y) = (to_dec(x)?, to_dec(y)?);
            match op {
                ArithOp::Add => Num::Dec(x.checked_add(y)?),
                ArithOp::Sub => Num::Dec(x.checked_add(y.negated())?),
                ArithOp::Mul => Num::Dec(x.checked_mul(y)?),
                ArithOp::Div => x
                    .div_truncated(y, DIV_PRECISION_INCREMENT)?
                    .map_or(Num::Null, Num::Dec),
            }
        }
    })
}

/// The text MySQL sends for `n` of type `t`.
fn text(n: Num, t: NumType) -> Result<Option<Vec<u8>>> {
    Ok(match n {
        Num::Null => None,
        Num::Int(i) => Some(i.to_string().into_bytes()),
        // MySQL keeps a quotient's digits inside an expression and rounds the value shown.
        Num::Dec(d) => {
            let scale = scale_of(t);
            Some(
                d.round(i64::from(scale))?
                    .with_scale(scale)?
                    .to_text()
                    .into_bytes(),
            )
        }
        Num::Double(f) => Some(float_text(f).into_bytes()),
    })
}

/// Whether a literal select item can be a [`ProjectedColumn`] constant:
/// text, integers and decimals (whose text MySQL shows as written).
pub fn constant(v: &PlanValue) -> bool {
    matches!(
        v,
        PlanValue::Literal(
            BindValue::VarChar(_)
                | BindValue::Int64(_)
                | BindValue::Uint64(_)
                | BindValue::Decimal(_)
                | BindValue::Null
        )
    )
}

/// The cell of a constant (see [`constant`]).
fn constant_cell(v: &BindValue) -> Result<Option<Vec<u8>>> {
    Ok(match v {
        BindValue::VarChar(b) => Some(b.clone()),
        BindValue::Int64(i) => Some(i.to_string().into_bytes()),
        BindValue::Uint64(u) => Some(u.to_string().into_bytes()),
        BindValue::Decimal(d) => Some(Dec::parse(d.as_bytes())?.to_text().into_bytes()),
        BindValue::Null => None,
        other => return Err(refuse(format!("the value {}", other.to_sql()))),
    })
}

/// The result column of an expression of type `t`.
fn output_field(name: &str, t: NumType, int_type: Type) -> Field {
    let (typ, length, decimals) = match t {
        NumType::Int { unsigned: false } => (int_type, 21, 0),
        NumType::Int { unsigned: true } => (Type::Uint64, 20, 0),
        NumType::Decimal { scale } => (Type::Decimal, 67, scale),
        NumType::Double => (Type::Float64, 23, 31),
    };
    Field {
        name: name.to_string(),
        r#type: typ as i32,
        column_length: length,
        charset: proto::sqltypes::BINARY_COLLATION,
        decimals,
        ..Default::default()
    }
}

/// One computed column: its position, name and expression.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectedColumn {
    /// The column it replaces in the input row.
    pub col: usize,
    /// The name clients see.
    pub name: String,
    /// What it computes (may read columns computed before it).
    pub expr: Arith,
}

/// What fills a projected column: a constant, a computed number or concatenated text.
enum Cell {
    Constant(Option<Vec<u8>>),
    Computed(NumType),
    Concat,
}

/// Replaces columns of each input row with computed values, in order,
/// then drops trailing columns.
#[derive(Debug)]
pub struct Projection {
    /// The computed columns, computed in this order.
    pub columns: Vec<ProjectedColumn>,
    /// Trailing columns dropped afterwards.
    pub hidden_columns: usize,
    /// The input.
    pub input: Box<dyn Primitive>,
}

#[async_trait]
impl Primitive for Projection {
    async fn execute(&self, vc: &dyn VCursor, vars: &BindVars) -> Result<QueryResult> {
        let mut r = self.input.execute(vc, vars).await?;
        // Constants keep the field the shards gave their column.
        let mut types = Vec::with_capacity(self.columns.len());
        for c in &self.columns {
            let slot = r
                .fields
                .get(c.col)
                .ok_or_else(|| EngineError::BadResult(format!("no column {}", c.col)))?;
            let field = match &c.expr {
                Arith::Value(pv @ PlanValue::Literal(v)) if constant(pv) => {
                    types.push(Cell::Constant(constant_cell(v)?));
                    Field {
                        name: c.name.clone(),
                        ..slot.clone()
                    }
                }
                Arith::Concat(parts) => {
                    types.push(Cell::Concat);
                    concat::field(&c.name, parts, &r.fields, vars)?
                }
                e => {
                    let t = e.typ(&r.fields, vars)?;
                    types.push(Cell::Computed(t));
                    output_field(&c.name, t, e.int_type(&r.fields, vars)?)
                }
            };
            r.fields[c.col] = field;
        }
        for row in &mut r.rows {
            let mut cells: Vec<Option<Vec<u8>>> = split(row)?
                .into_iter()
                .map(|c| c.map(<[u8]>::to_vec))
                .collect();
            for (c, t) in self.columns.iter().zip(&types) {
                let cell = match t {
                    Cell::Constant(constant) => constant.clone(),
                    Cell::Computed(t) => {
                        let view: Vec<Option<&[u8]>> = cells.iter().map(|c| c.as_deref()).collect();
                        text(c.expr.eval(&view, &r.fields, vars)?, *t)?
                    }
                    Cell::Concat => match &c.expr {
                        Arith::Concat(parts) => {
                            let view: Vec<Option<&[u8]>> =
                                cells.iter().map(|c| c.as_deref()).collect();
                            concat::cell(parts, &view, vars)?
                        }
                        _ => None,
                    },
                };
                if let Some(slot) = cells.get_mut(c.col) {
                    *slot = cell;
                }
            }
            *row = Row::from_values(cells.iter().map(|c| c.as_deref()));
        }
        truncate_columns(&mut r, self.hidden_columns)?;
        Ok(r)
    }

    fn description(&self) -> PlanDescription {
        let exprs: Vec<String> = self
            .columns
            .iter()
            .map(|c| format!("{}: {} as {}", c.col, c.expr.describe(), c.name))
            .collect();
        PlanDescription::new("Projection")
            .with("Expressions", exprs.join(", "))
            .input(self.input.description())
    }
}

/// Builds new rows from expressions over the input row (the select list
/// of a query over a derived table). A bare column is copied as it is
/// (any type), a NULL literal is a NULL column; the rest is [`Arith`].
#[derive(Debug)]
pub struct Project {
    /// Output columns: name and expression.
    pub columns: Vec<(String, Arith)>,
    /// The input.
    pub input: Box<dyn Primitive>,
}

enum Output {
    Copy(usize),
    Null,
    Computed(NumType),
    Concat,
}

#[async_trait]
impl Primitive for Project {
    async fn execute(&self, vc: &dyn VCursor, vars: &BindVars) -> Result<QueryResult> {
        let input = self.input.execute(vc, vars).await?;
        let mut out = QueryResult::default();
        let mut outputs = Vec::with_capacity(self.columns.len());
        for (name, expr) in &self.columns {
            let (field, output) = match expr {
                Arith::Column(i) => {
                    let mut f = input
                        .fields
                        .get(*i)
                        .cloned()
                        .ok_or_else(|| EngineError::BadResult(format!("no column {i}")))?;
                    f.name = name.clone();
                    (f, Output::Copy(*i))
                }
                Arith::Value(PlanValue::Literal(BindValue::Null)) => (
                    Field {
                        name: name.clone(),
                        r#type: Type::NullType as i32,
                        charset: proto::sqltypes::BINARY_COLLATION,
                        ..Default::default()
                    },
                    Output::Null,
                ),
                Arith::Concat(parts) => (
                    concat::field(name, parts, &input.fields, vars)?,
                    Output::Concat,
                ),
                e => {
                    let t = e.typ(&input.fields, vars)?;
                    (
                        output_field(name, t, e.int_type(&input.fields, vars)?),
                        Output::Computed(t),
                    )
                }
            };
            out.fields.push(field);
            outputs.push(output);
        }
        for row in &input.rows {
            let cells = split(row)?;
            let mut values: Vec<Option<Vec<u8>>> = Vec::with_capacity(outputs.len());
            for ((_, expr), output) in self.columns.iter().zip(&outputs) {
                values.push(match output {
                    Output::Copy(i) => cells.get(*i).copied().flatten().map(<[u8]>::to_vec),
                    Output::Null => None,
                    Output::Computed(t) => text(expr.eval(&cells, &input.fields, vars)?, *t)?,
                    Output::Concat => match expr {
                        Arith::Concat(parts) => concat::cell(parts, &cells, vars)?,
                        _ => None,
                    },
                });
            }
            out.rows
                .push(Row::from_values(values.iter().map(|c| c.as_deref())));
        }
        Ok(out)
    }

    fn description(&self) -> PlanDescription {
        let exprs: Vec<String> = self
            .columns
            .iter()
            .map(|(name, e)| format!("{} as {name}", e.describe()))
            .collect();
        PlanDescription::new("Projection")
            .with("Expressions", exprs.join(", "))
            .input(self.input.description())
    }
}

mod concat;
#[cfg(test)]
mod tests;
