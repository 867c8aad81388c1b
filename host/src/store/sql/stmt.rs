//! [`Stmt`]: one statement and its parameters, for code generic over the database.
//!
//! sqlx's own query builders need the bounds [`SqlDb`] exists to avoid at every call; a
//! `Stmt` binds and decodes through the capabilities `D: SqlDb` carries instead, and
//! otherwise behaves like `sqlx::query`: a value that fails to encode fails the statement
//! when it runs.

use std::borrow::Cow;

use sqlx::error::BoxDynError;
use sqlx::{Arguments, AssertSqlSafe, Database};

use super::db::{Affected, Decodes, On, Param, Query, SqlDb};

/// One statement and its parameters, bound in the order the placeholders appear.
pub(crate) struct Stmt<D: Database> {
    sql: Cow<'static, str>,
    arguments: Result<D::Arguments, BoxDynError>,
}

impl<D: SqlDb> Stmt<D> {
    /// A statement of fixed text.
    pub(crate) fn new(sql: &'static str) -> Self {
        Stmt {
            sql: Cow::Borrowed(sql),
            arguments: Ok(D::Arguments::default()),
        }
    }

    /// Binds the next parameter.
    pub(crate) fn bind<'t, T>(mut self, value: T) -> Self
    where
        D: Param<'t, T>,
    {
        if let Ok(arguments) = &mut self.arguments
            && let Err(error) = D::add(arguments, value)
        {
            self.arguments = Err(error);
        }
        self
    }

    /// Appends text to the statement.
    pub(crate) fn push(mut self, sql: &str) -> Self {
        self.sql.to_mut().push_str(sql);
        self
    }

    /// Binds the next parameter and appends its placeholder, in the engine's style (`$3`,
    /// `?`).
    pub(crate) fn push_bind<'t, T>(self, value: T) -> Self
    where
        D: Param<'t, T>,
    {
        let mut stmt = self.bind(value);
        if let Ok(arguments) = &stmt.arguments {
            let sql = stmt.sql.to_mut();
            // Writing into a String cannot fail.
            let _ = arguments.format_placeholder(sql);
        }
        stmt
    }

    /// The statement as sqlx runs it; a value that failed to encode fails it here.
    fn query(self) -> sqlx::Result<Query<D>> {
        let arguments = self.arguments.map_err(sqlx::Error::Encode)?;
        Ok(sqlx::query_with(AssertSqlSafe(self.sql), arguments))
    }

    /// Runs the statement; returns how many rows it changed.
    pub(crate) async fn execute<'c>(self, on: impl Into<On<'c, D>>) -> sqlx::Result<u64> {
        Ok(D::run(self.query()?, on.into()).await?.rows_affected())
    }

    /// Runs the statement; returns the engine's whole answer (how many rows it changed, and
    /// on MySQL the id it generated).
    pub(crate) async fn execute_result<'c>(
        self,
        on: impl Into<On<'c, D>>,
    ) -> sqlx::Result<D::QueryResult> {
        D::run(self.query()?, on.into()).await
    }

    /// The first row, if any.
    pub(crate) async fn fetch_optional<'c, O>(
        self,
        on: impl Into<On<'c, D>>,
    ) -> sqlx::Result<Option<O>>
    where
        D: Decodes<O>,
    {
        D::row(self.query()?, on.into())
            .await?
            .map(|row| D::decode(&row))
            .transpose()
    }

    /// The first row; [`sqlx::Error::RowNotFound`] when there is none.
    pub(crate) async fn fetch_one<'c, O>(self, on: impl Into<On<'c, D>>) -> sqlx::Result<O>
    where
        D: Decodes<O>,
    {
        self.fetch_optional(on)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }

    /// Every row.
    pub(crate) async fn fetch_all<'c, O>(self, on: impl Into<On<'c, D>>) -> sqlx::Result<Vec<O>>
    where
        D: Decodes<O>,
    {
        let rows = D::rows(self.query()?, on.into()).await?;
        rows.iter().map(D::decode).collect()
    }

    /// The first column of the first row; [`sqlx::Error::RowNotFound`] when there is none.
    pub(crate) async fn scalar<'c, T>(self, on: impl Into<On<'c, D>>) -> sqlx::Result<T>
    where
        D: Decodes<(T,)>,
    {
        Ok(self.fetch_one::<(T,)>(on).await?.0)
    }

    /// The first column of the first row, if there is a row.
    pub(crate) async fn scalar_optional<'c, T>(
        self,
        on: impl Into<On<'c, D>>,
    ) -> sqlx::Result<Option<T>>
    where
        D: Decodes<(T,)>,
    {
        Ok(self.fetch_optional::<(T,)>(on).await?.map(|(value,)| value))
    }

    /// The first column of every row.
    pub(crate) async fn scalars<'c, T>(self, on: impl Into<On<'c, D>>) -> sqlx::Result<Vec<T>>
    where
        D: Decodes<(T,)>,
    {
        let rows = self.fetch_all::<(T,)>(on).await?;
        Ok(rows.into_iter().map(|(value,)| value).collect())
    }
}
