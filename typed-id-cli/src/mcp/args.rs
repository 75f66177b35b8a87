//! Reading tool arguments: each accessor checks one argument against what the tool's
//! input schema promises and says exactly what is wrong, so a bad call is a tool error
//! the agent can act on.

use serde_json::{Map, Value};

/// A tool's arguments, checked one by one.
pub struct Args<'a> {
    map: &'a Map<String, Value>,
}

/// An argument error's message.
pub type ArgError = String;

impl<'a> Args<'a> {
    /// Arguments `map`, allowing only the names in `known`.
    pub fn new(map: &'a Map<String, Value>, known: &[&str]) -> Result<Self, ArgError> {
        if let Some(unknown) = map.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(format!(
                "unknown argument `{unknown}`; this tool takes {}",
                known
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        Ok(Args { map })
    }

    /// The argument as given (`null` included).
    pub fn get_raw(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name)
    }

    fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    /// A required string, at least one character long.
    pub fn string(&self, name: &str) -> Result<&'a str, ArgError> {
        self.opt_string(name)?
            .ok_or_else(|| format!("missing required argument `{name}` (a string)"))
    }

    /// An optional string; when given, at least one character long.
    pub fn opt_string(&self, name: &str) -> Result<Option<&'a str>, ArgError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Err(format!("`{name}` must not be empty")),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(format!("`{name}` must be a string; got {other}")),
        }
    }

    /// An optional boolean.
    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>, ArgError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(format!("`{name}` must be true or false; got {other}")),
        }
    }

    /// An optional integer in `min..=max`.
    pub fn opt_int(&self, name: &str, min: u64, max: u64) -> Result<Option<u64>, ArgError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => match v.as_u64() {
                Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
                _ => Err(format!(
                    "`{name}` must be an integer from {min} to {max}; got {v}"
                )),
            },
        }
    }

    /// A required integer in `min..=max`.
    pub fn int(&self, name: &str, min: u64, max: u64) -> Result<u64, ArgError> {
        self.opt_int(name, min, max)?.ok_or_else(|| {
            format!("missing required argument `{name}` (an integer from {min} to {max})")
        })
    }

    /// An optional string from `choices`.
    pub fn opt_choice(&self, name: &str, choices: &[&str]) -> Result<Option<&'a str>, ArgError> {
        match self.opt_string(name)? {
            None => Ok(None),
            Some(s) if choices.contains(&s) => Ok(Some(s)),
            Some(s) => Err(format!(
                "`{name}` must be one of {}; got {s:?}",
                choices.join(", ")
            )),
        }
    }

    /// An optional list of strings.
    pub fn opt_strings(&self, name: &str) -> Result<Vec<String>, ArgError> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(format!("`{name}` must be a list of strings; found {other}")),
                })
                .collect(),
            Some(other) => Err(format!("`{name}` must be a list of strings; got {other}")),
        }
    }
}
