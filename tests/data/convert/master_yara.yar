import "pe"
import "math"

// Fictional Master YARA file for the convert tests. This comment is in no pattern.

private rule Glasswing_Marker
{
    strings:
        $marker = "glasswing-marker"
    condition:
        $marker
}

rule Glasswing_Dropper : dropper
{
    meta:
        description = "Fictional dropper that carries the \"marker\""
        report = "Glasswing test campaign  "
        last_modified = "14.03.2024"
    condition:
        Glasswing_Marker and pe.is_pe
}

rule Glasswing_Packed
{
    meta:
        report = "Glasswing test campaign"
        last_modified = "2024-04-02T10:22:01Z"
    condition:
        math.entropy(0, filesize) > 7.5
}

rule Glasswing_Broken
{
    meta:
        report = "Glasswing test campaign"
    condition:
        glasswing_undefined_identifier
}

rule Quietfinch_Undated
{
    meta:
        desc = "A group whose only rule has no date"
        report = "Quietfinch undated notes"
        last_modified = "-"
    condition:
        filesize < 64
}

rule Stray_Rule
{
    meta:
        description = "No report: an indicator of its own"
    strings:
        $s = "stray" nocase
    condition:
        $s
}
