//! The Azure regions a plan may name (public cloud, Azure China and Azure Government), so an
//! unknown `location` is caught before anything is sent, with a did-you-mean.

/// Region names as `az account list-locations` prints them (`name`, not `displayName`).
pub const REGIONS: &[&str] = &[
    // Public cloud.
    "australiacentral",
    "australiacentral2",
    "australiaeast",
    "australiasoutheast",
    "austriaeast",
    "belgiumcentral",
    "brazilsouth",
    "brazilsoutheast",
    "canadacentral",
    "canadaeast",
    "centralindia",
    "centralus",
    "centraluseuap",
    "chilecentral",
    "eastasia",
    "eastus",
    "eastus2",
    "eastus2euap",
    "francecentral",
    "francesouth",
    "germanynorth",
    "germanywestcentral",
    "indonesiacentral",
    "israelcentral",
    "italynorth",
    "japaneast",
    "japanwest",
    "jioindiacentral",
    "jioindiawest",
    "koreacentral",
    "koreasouth",
    "malaysiawest",
    "mexicocentral",
    "newzealandnorth",
    "northcentralus",
    "northeurope",
    "norwayeast",
    "norwaywest",
    "polandcentral",
    "qatarcentral",
    "southafricanorth",
    "southafricawest",
    "southcentralus",
    "southindia",
    "southeastasia",
    "spaincentral",
    "swedencentral",
    "swedensouth",
    "switzerlandnorth",
    "switzerlandwest",
    "uaecentral",
    "uaenorth",
    "uksouth",
    "ukwest",
    "westcentralus",
    "westeurope",
    "westindia",
    "westus",
    "westus2",
    "westus3",
    // Azure China.
    "chinaeast",
    "chinaeast2",
    "chinaeast3",
    "chinanorth",
    "chinanorth2",
    "chinanorth3",
    // Azure Government.
    "usgovarizona",
    "usgoviowa",
    "usgovtexas",
    "usgovvirginia",
    "usdodcentral",
    "usdodeast",
];

/// The canonical form of a region name: lower case, spaces removed (`West US 2` -> `westus2`).
pub fn normalize(location: &str) -> String {
    location
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// True when `location` (any case, display-name spacing allowed) is a known region.
pub fn is_known(location: &str) -> bool {
    let wanted = normalize(location);
    REGIONS.contains(&wanted.as_str())
}

/// The closest known region, for "did you mean".
pub fn suggest(location: &str) -> Option<String> {
    twinup_plan::did_you_mean(&normalize(location), REGIONS.iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_display_names_are_known() {
        assert!(is_known("westus2"));
        assert!(is_known("West US 2"));
        assert!(is_known("chinanorth3"));
        assert!(is_known("usgovvirginia"));
        assert!(!is_known("westus9"));
        assert!(!is_known("mars"));
    }

    #[test]
    fn typos_get_a_suggestion() {
        assert_eq!(suggest("westu2").as_deref(), Some("westus2"));
        assert_eq!(suggest("westeurop").as_deref(), Some("westeurope"));
    }
}
