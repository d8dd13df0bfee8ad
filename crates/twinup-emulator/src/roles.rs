//! Role definitions (the built-in ones twinup uses plus custom ones added through the admin API)
//! and the Azure RBAC action matching rules (`*` wildcards, `notActions` subtract).

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

pub(crate) const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
pub(crate) const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";
pub(crate) const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
pub(crate) const USER_ACCESS_ADMINISTRATOR: &str = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9";
pub(crate) const ADT_DATA_OWNER: &str = "bcd981a7-7f74-457b-83e1-cceb9e632ffe";
pub(crate) const ADT_DATA_READER: &str = "d57506d4-4c8d-48b1-8587-93c323f6a5a3";

/// One role definition (built-in or custom).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RoleDefinition {
    pub id: String,
    pub role_name: String,
    pub description: String,
    pub built_in: bool,
    pub actions: Vec<String>,
    pub not_actions: Vec<String>,
    pub data_actions: Vec<String>,
    pub not_data_actions: Vec<String>,
}

fn def(
    id: &str,
    role_name: &str,
    description: &str,
    actions: &[&str],
    not_actions: &[&str],
    data_actions: &[&str],
) -> RoleDefinition {
    let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    RoleDefinition {
        id: id.to_string(),
        role_name: role_name.to_string(),
        description: description.to_string(),
        built_in: true,
        actions: own(actions),
        not_actions: own(not_actions),
        data_actions: own(data_actions),
        not_data_actions: Vec::new(),
    }
}

static BUILT_IN: LazyLock<Vec<RoleDefinition>> = LazyLock::new(|| {
    vec![
        def(
            OWNER,
            "Owner",
            "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
            &["*"],
            &[],
            &[],
        ),
        def(
            CONTRIBUTOR,
            "Contributor",
            "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC.",
            &["*"],
            &[
                "Microsoft.Authorization/*/Delete",
                "Microsoft.Authorization/*/Write",
                "Microsoft.Authorization/elevateAccess/Action",
                "Microsoft.Blueprint/blueprintAssignments/write",
                "Microsoft.Blueprint/blueprintAssignments/delete",
            ],
            &[],
        ),
        def(
            READER,
            "Reader",
            "View all resources, but does not allow you to make any changes.",
            &["*/read"],
            &[],
            &[],
        ),
        def(
            USER_ACCESS_ADMINISTRATOR,
            "User Access Administrator",
            "Lets you manage user access to Azure resources.",
            &["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"],
            &[],
            &[],
        ),
        def(
            ADT_DATA_OWNER,
            "Azure Digital Twins Data Owner",
            "Full access role for Digital Twins data-plane",
            &[],
            &[],
            &[
                "Microsoft.DigitalTwins/eventroutes/*",
                "Microsoft.DigitalTwins/digitaltwins/*",
                "Microsoft.DigitalTwins/digitaltwins/commands/*",
                "Microsoft.DigitalTwins/digitaltwins/relationships/*",
                "Microsoft.DigitalTwins/models/*",
                "Microsoft.DigitalTwins/query/*",
                "Microsoft.DigitalTwins/jobs/*",
            ],
        ),
        def(
            ADT_DATA_READER,
            "Azure Digital Twins Data Reader",
            "Read-only role for Digital Twins data-plane properties",
            &[],
            &[],
            &[
                "Microsoft.DigitalTwins/digitaltwins/read",
                "Microsoft.DigitalTwins/digitaltwins/relationships/read",
                "Microsoft.DigitalTwins/eventroutes/read",
                "Microsoft.DigitalTwins/models/read",
                "Microsoft.DigitalTwins/query/action",
            ],
        ),
    ]
});

pub(crate) fn built_in() -> &'static [RoleDefinition] {
    &BUILT_IN
}

/// Case-insensitive match of an RBAC pattern (with `*` wildcards) against an action.
pub(crate) fn wildcard_match(pattern: &str, action: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let a: Vec<char> = action.to_lowercase().chars().collect();
    let (mut pi, mut ai) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while ai < a.len() {
        if pi < p.len() && p[pi] != '*' && p[pi] == a[ai] {
            pi += 1;
            ai += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ai;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ai = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

impl RoleDefinition {
    /// Whether this role grants the control-plane `action`.
    pub fn permits(&self, action: &str) -> bool {
        self.actions.iter().any(|p| wildcard_match(p, action))
            && !self.not_actions.iter().any(|p| wildcard_match(p, action))
    }

    /// Whether this role grants the data-plane `action` (its `dataActions` less
    /// `notDataActions`).
    pub fn permits_data(&self, action: &str) -> bool {
        self.data_actions.iter().any(|p| wildcard_match(p, action))
            && !self
                .not_data_actions
                .iter()
                .any(|p| wildcard_match(p, action))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(id: &str) -> &'static RoleDefinition {
        built_in().iter().find(|r| r.id == id).unwrap()
    }

    #[test]
    fn owner_and_uaa_may_write_role_assignments_contributor_may_not() {
        let action = "Microsoft.Authorization/roleAssignments/write";
        assert!(role(OWNER).permits(action));
        assert!(role(USER_ACCESS_ADMINISTRATOR).permits(action));
        assert!(!role(CONTRIBUTOR).permits(action));
        assert!(!role(READER).permits(action));
    }

    #[test]
    fn reader_reads_only() {
        assert!(role(READER).permits("Microsoft.Resources/subscriptions/resourceGroups/read"));
        assert!(!role(READER).permits("Microsoft.Resources/subscriptions/resourceGroups/write"));
        assert!(role(CONTRIBUTOR).permits("Microsoft.DigitalTwins/digitalTwinsInstances/write"));
    }

    #[test]
    fn both_data_roles_read_models_and_control_plane_roles_do_not() {
        let action = "Microsoft.DigitalTwins/models/read";
        assert!(role(ADT_DATA_OWNER).permits_data(action));
        assert!(role(ADT_DATA_READER).permits_data(action));
        assert!(!role(OWNER).permits_data(action));
        assert!(!role(ADT_DATA_READER).permits_data("Microsoft.DigitalTwins/models/write"));
    }

    #[test]
    fn wildcards_match_in_the_middle() {
        assert!(wildcard_match(
            "Microsoft.Authorization/*/Write",
            "microsoft.authorization/roleassignments/write"
        ));
        assert!(!wildcard_match(
            "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/roleAssignments/read"
        ));
    }
}
