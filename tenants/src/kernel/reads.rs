//! Platform data (the catalogue) is read from wherever the caller stands: inside a tenant's
//! request transaction (so SQLite's single connection is never asked for twice), in a platform
//! transaction, or straight from the pool.

use sea_orm::{DatabaseConnection, DatabaseTransaction};

use crate::{Db, PlatformTx, TenantTx};

pub enum Conn<'a> {
    Pool(&'a DatabaseConnection),
    Tx(&'a DatabaseTransaction),
}

pub trait Reads {
    fn reads(&self) -> Conn<'_>;
}

impl Reads for Db {
    fn reads(&self) -> Conn<'_> {
        Conn::Pool(&self.conn)
    }
}

impl Reads for TenantTx {
    fn reads(&self) -> Conn<'_> {
        Conn::Tx(&self.tx)
    }
}

impl Reads for PlatformTx {
    fn reads(&self) -> Conn<'_> {
        Conn::Tx(&self.tx)
    }
}

/// Runs `$q.$method(conn)` on whichever connection `$r` stands on.
macro_rules! on {
    ($r:expr, $q:expr, $method:ident) => {
        match $crate::kernel::reads::Reads::reads($r) {
            $crate::kernel::reads::Conn::Pool(c) => $q.$method(c).await,
            $crate::kernel::reads::Conn::Tx(c) => $q.$method(c).await,
        }
    };
}
pub(crate) use on;
