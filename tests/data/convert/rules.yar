import "pe"

// Fictional rules for the convert tests.
rule Glasswing_Loader : loader
{
    meta:
        description = "Fictional loader of the Glasswing test campaign"
        report = "Glasswing test campaign"
        last_modified = "2024-06-03"
    strings:
        $name = "glasswing-loader" ascii wide
    condition:
        pe.number_of_sections > 2 and $name
}

rule Glasswing_Config
{
    meta:
        desc = "Fictional configuration block"
        report = "Glasswing test campaign"
    strings:
        $magic = { 47 4C 41 53 53 }
    condition:
        $magic at 0
}
