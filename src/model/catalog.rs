//! The built-in EC2 instance catalog: vCPUs, memory and on-demand price.
//!
//! Figures: docs/semantics.md §2 (on-demand Linux, us-east-1; several
//! independent public price tables agree).

/// One instance type.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InstanceType {
    /// API name, e.g. `"c5.large"`.
    pub name: &'static str,
    /// Virtual CPUs.
    pub vcpus: u32,
    /// Memory, GiB.
    pub memory_gib: u32,
    /// On-demand price, $/hour.
    pub price_per_hour: f64,
}

/// Every instance type the catalog knows, smallest first within each family.
pub const CATALOG: &[InstanceType] = &[
    InstanceType {
        name: "t2.micro",
        vcpus: 1,
        memory_gib: 1,
        price_per_hour: 0.0116,
    },
    InstanceType {
        name: "t3.micro",
        vcpus: 2,
        memory_gib: 1,
        price_per_hour: 0.0104,
    },
    InstanceType {
        name: "t3.small",
        vcpus: 2,
        memory_gib: 2,
        price_per_hour: 0.0208,
    },
    InstanceType {
        name: "t3.medium",
        vcpus: 2,
        memory_gib: 4,
        price_per_hour: 0.0416,
    },
    InstanceType {
        name: "t3.large",
        vcpus: 2,
        memory_gib: 8,
        price_per_hour: 0.0832,
    },
    InstanceType {
        name: "m5.large",
        vcpus: 2,
        memory_gib: 8,
        price_per_hour: 0.096,
    },
    InstanceType {
        name: "m5.xlarge",
        vcpus: 4,
        memory_gib: 16,
        price_per_hour: 0.192,
    },
    InstanceType {
        name: "m5.2xlarge",
        vcpus: 8,
        memory_gib: 32,
        price_per_hour: 0.384,
    },
    InstanceType {
        name: "c5.large",
        vcpus: 2,
        memory_gib: 4,
        price_per_hour: 0.085,
    },
    InstanceType {
        name: "c5.xlarge",
        vcpus: 4,
        memory_gib: 8,
        price_per_hour: 0.17,
    },
    InstanceType {
        name: "c5.2xlarge",
        vcpus: 8,
        memory_gib: 16,
        price_per_hour: 0.34,
    },
    InstanceType {
        name: "c5.4xlarge",
        vcpus: 16,
        memory_gib: 32,
        price_per_hour: 0.68,
    },
];

/// The database instance classes (RDS-like, PostgreSQL on-demand, single-AZ; a Multi-AZ standby
/// doubles the bill). Figures: docs/semantics.md §9.
pub const DB_CATALOG: &[InstanceType] = &[
    InstanceType {
        name: "db.t4g.micro",
        vcpus: 2,
        memory_gib: 1,
        price_per_hour: 0.016,
    },
    InstanceType {
        name: "db.t4g.small",
        vcpus: 2,
        memory_gib: 2,
        price_per_hour: 0.032,
    },
    InstanceType {
        name: "db.t4g.medium",
        vcpus: 2,
        memory_gib: 4,
        price_per_hour: 0.065,
    },
    InstanceType {
        name: "db.r5.large",
        vcpus: 2,
        memory_gib: 16,
        price_per_hour: 0.24,
    },
    InstanceType {
        name: "db.r5.xlarge",
        vcpus: 4,
        memory_gib: 32,
        price_per_hour: 0.48,
    },
    InstanceType {
        name: "db.r5.2xlarge",
        vcpus: 8,
        memory_gib: 64,
        price_per_hour: 0.96,
    },
    InstanceType {
        name: "db.r5.4xlarge",
        vcpus: 16,
        memory_gib: 128,
        price_per_hour: 1.92,
    },
];

/// Looks a database instance class up by name.
pub fn lookup_db(name: &str) -> Option<&'static InstanceType> {
    DB_CATALOG.iter().find(|t| t.name == name)
}

/// All database class names, for "expected one of" messages.
pub fn db_names() -> Vec<&'static str> {
    DB_CATALOG.iter().map(|t| t.name).collect()
}

/// Looks an instance type up by name.
pub fn lookup(name: &str) -> Option<&'static InstanceType> {
    CATALOG.iter().find(|t| t.name == name)
}

/// All names, for "expected one of" messages and suggestions.
pub fn names() -> Vec<&'static str> {
    CATALOG.iter().map(|t| t.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_matches_the_reference_table() {
        let t = lookup("c5.4xlarge").unwrap();
        assert_eq!((t.vcpus, t.memory_gib, t.price_per_hour), (16, 32, 0.68));
        assert_eq!(lookup("t2.micro").unwrap().price_per_hour, 0.0116);
        assert!(lookup("z9.huge").is_none());
        assert_eq!(names().len(), 12);
        let d = lookup_db("db.r5.large").unwrap();
        assert_eq!((d.vcpus, d.memory_gib, d.price_per_hour), (2, 16, 0.24));
        assert!(
            lookup("db.r5.large").is_none(),
            "database classes are not servers'"
        );
        assert_eq!(db_names().len(), 7);
    }
}
