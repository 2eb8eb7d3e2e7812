//! Who is calling, as established by the gateway from a verified token.

use crate::{OperatorId, OrganisationId, PersonId, RoleGrantId, TenantId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Role {
    /// The whole tenant (granted on the root organisation).
    TenantAdmin,
    /// HR of an organisation: manages its people, reaching down its subtree.
    OrgAdmin,
    /// Reads their subtree's people and progress.
    Manager,
    Learner,
    /// Staff of a funder: granted on the funder's organisation, it sees and manages that
    /// funder's voucher batches and nothing else of the space (`may` gives it nothing).
    Funder,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::TenantAdmin => "tenant_admin",
            Role::OrgAdmin => "org_admin",
            Role::Manager => "manager",
            Role::Learner => "learner",
            Role::Funder => "funder",
        }
    }

    pub fn from_db(s: &str) -> Option<Self> {
        Some(match s {
            "tenant_admin" => Role::TenantAdmin,
            "org_admin" => Role::OrgAdmin,
            "manager" => Role::Manager,
            "learner" => Role::Learner,
            "funder" => Role::Funder,
            _ => return None,
        })
    }
}

/// A role held on an organisation node, with that node's materialized path so subtree checks
/// need no query.
#[derive(Clone, Debug)]
pub struct Grant {
    pub id: RoleGrantId,
    pub role: Role,
    pub organisation: OrganisationId,
    pub path: String,
}

#[derive(Clone, Debug)]
pub enum Principal {
    Anonymous,
    /// A person of one tenant; grants are read per request, so a revoked role stops at once.
    Person {
        tenant: TenantId,
        person: PersonId,
        grants: Vec<Grant>,
    },
    Operator {
        operator: OperatorId,
    },
}

/// What an access check needs to know about the target node.
pub enum Need {
    /// Manage (write) the node's subtree.
    Manage,
    /// Read the node's subtree.
    Read,
}

impl Principal {
    pub fn person(&self) -> Option<(TenantId, PersonId)> {
        match self {
            Principal::Person { tenant, person, .. } => Some((*tenant, *person)),
            _ => None,
        }
    }

    pub fn is_operator(&self) -> bool {
        matches!(self, Principal::Operator { .. })
    }

    pub fn is_tenant_admin(&self) -> bool {
        self.grants().iter().any(|g| g.role == Role::TenantAdmin)
    }

    pub fn grants(&self) -> &[Grant] {
        match self {
            Principal::Person { grants, .. } => grants,
            _ => &[],
        }
    }

    /// Whether the principal may act on the node whose materialized path is `path`.
    pub fn may(&self, need: Need, path: &str) -> bool {
        self.grants().iter().any(|g| {
            let reaches = path.starts_with(&g.path);
            match (g.role, &need) {
                (Role::TenantAdmin, _) => true,
                (Role::OrgAdmin, _) => reaches,
                (Role::Manager, Need::Read) => reaches,
                _ => false,
            }
        })
    }

    /// Paths of the subtrees the principal may read (None: the whole tenant).
    pub fn readable_roots(&self) -> Option<Vec<String>> {
        if self.is_tenant_admin() {
            return None;
        }
        Some(
            self.grants()
                .iter()
                .filter(|g| matches!(g.role, Role::OrgAdmin | Role::Manager))
                .map(|g| g.path.clone())
                .collect(),
        )
    }
}
