//! Azure regions the emulator knows: the normalised name, the short code used in Azure Digital
//! Twins host names, and whether Azure Digital Twins is offered there.

pub(crate) struct Region {
    pub name: &'static str,
    pub code: &'static str,
    pub digital_twins: bool,
}

const fn r(name: &'static str, code: &'static str, digital_twins: bool) -> Region {
    Region {
        name,
        code,
        digital_twins,
    }
}

const REGIONS: &[Region] = &[
    r("eastus", "eus", true),
    r("eastus2", "eus2", true),
    r("westus", "wus", false),
    r("westus2", "wus2", true),
    r("westus3", "wus3", true),
    r("centralus", "cus", true),
    r("northcentralus", "ncus", false),
    r("southcentralus", "scus", true),
    r("westcentralus", "wcus", true),
    r("canadacentral", "cac", false),
    r("canadaeast", "cae", false),
    r("brazilsouth", "brs", false),
    r("northeurope", "neu", true),
    r("westeurope", "weu", true),
    r("uksouth", "uks", true),
    r("ukwest", "ukw", false),
    r("francecentral", "frc", true),
    r("germanywestcentral", "gwc", false),
    r("switzerlandnorth", "szn", true),
    r("norwayeast", "noe", false),
    r("swedencentral", "sdc", true),
    r("polandcentral", "plc", false),
    r("italynorth", "itn", false),
    r("eastasia", "ea", false),
    r("southeastasia", "sea", true),
    r("japaneast", "jpe", true),
    r("japanwest", "jpw", false),
    r("koreacentral", "krc", true),
    r("australiaeast", "ae", true),
    r("australiasoutheast", "ase", false),
    r("centralindia", "inc", false),
    r("southindia", "ins", false),
    r("uaenorth", "uan", false),
    r("southafricanorth", "san", false),
    r("qatarcentral", "qac", true),
];

/// `"West US 2"` and `"WestUS2"` both become `"westus2"`, as ARM echoes locations.
/// The region codes instance host names can carry (`{name}.api.{code}.digitaltwins.azure.net`;
/// `local` for a region the emulator does not know).
pub(crate) fn host_name_codes() -> impl Iterator<Item = &'static str> {
    REGIONS
        .iter()
        .filter(|r| r.digital_twins)
        .map(|r| r.code)
        .chain(["local"])
}

pub(crate) fn normalize(location: &str) -> String {
    location
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase()
}

pub(crate) fn find(location: &str) -> Option<&'static Region> {
    let wanted = normalize(location);
    REGIONS.iter().find(|r| r.name == wanted)
}

pub(crate) fn digital_twins_regions() -> Vec<&'static str> {
    REGIONS
        .iter()
        .filter(|r| r.digital_twins)
        .map(|r| r.name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_normalise() {
        assert_eq!(normalize("West US 2"), "westus2");
        assert_eq!(find("WestUS2").map(|r| r.code), Some("wus2"));
        assert!(find("moon").is_none());
    }
}
