//! `DATABASE_URL`: PostgreSQL, or a SQLite file (the default).

use std::fmt;
use std::path::{Path, PathBuf};

use super::ConfigError;

/// Where the data lives, chosen from `DATABASE_URL`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(PathBuf),
}

pub const DEFAULT_SQLITE_PATH: &str = "./data/matchmaker.db";

impl DatabaseUrl {
    /// Parse a `DATABASE_URL` value. Unknown schemes are refused so that a typo never silently creates a file.
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(ConfigError::Empty);
        }
        match raw.split_once("://") {
            Some((scheme, rest)) => match scheme.to_ascii_lowercase().as_str() {
                "postgres" | "postgresql" => Ok(Self::Postgres(raw.to_owned())),
                "sqlite" if !rest.is_empty() => Ok(Self::Sqlite(PathBuf::from(rest))),
                "sqlite" => Err(ConfigError::Empty),
                other => Err(ConfigError::UnknownScheme(other.to_owned())),
            },
            None if raw.starts_with("sqlite:") => Ok(Self::Sqlite(PathBuf::from(&raw["sqlite:".len()..]))),
            None => Ok(Self::Sqlite(PathBuf::from(raw))),
        }
    }

    pub fn default_sqlite() -> Self {
        Self::Sqlite(PathBuf::from(DEFAULT_SQLITE_PATH))
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    /// The SQLite file, if this is SQLite.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Self::Sqlite(p) => Some(p),
            Self::Postgres(_) => None,
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "postgresql",
            Self::Sqlite(_) => "sqlite",
        }
    }
}

/// The URL with any password replaced, for logs and messages.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(p) => write!(f, "sqlite://{}", p.display()),
            Self::Postgres(url) => f.write_str(&super::masked_url(url)),
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_url_schemes() {
        assert!(matches!(DatabaseUrl::parse("postgres://u:p@h/db"), Ok(DatabaseUrl::Postgres(_))));
        assert!(matches!(DatabaseUrl::parse("postgresql://h/db"), Ok(DatabaseUrl::Postgres(_))));
        assert_eq!(DatabaseUrl::parse("sqlite://data/x.db"), Ok(DatabaseUrl::Sqlite("data/x.db".into())));
        assert_eq!(DatabaseUrl::parse("sqlite:///tmp/x.db"), Ok(DatabaseUrl::Sqlite("/tmp/x.db".into())));
        assert_eq!(DatabaseUrl::parse("./x.db"), Ok(DatabaseUrl::Sqlite("./x.db".into())));
        assert_eq!(DatabaseUrl::parse("mysql://h/db"), Err(ConfigError::UnknownScheme("mysql".into())));
        assert_eq!(DatabaseUrl::parse("postgress://h/db"), Err(ConfigError::UnknownScheme("postgress".into())));
        assert_eq!(DatabaseUrl::parse("  "), Err(ConfigError::Empty));
    }

    #[test]
    fn password_is_hidden() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db:5432/mm").unwrap();
        let shown = format!("{url:?} {url}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("app:***@db"), "{shown}");
    }
}
