rule meta_forms : tag_one tag_two
{
    meta:
        desc = "Matches the \"Example\" loader\tand a tab"
        DESCRIPTION = "Preferred over desc"
        report = "  Example Report Name  "
        last_modified = 20240314
        score = 55
    condition:
        true
}

rule meta_blank_report
{
    meta:
        report = "   "
        last_modified = "['2024-03-14']"
        description = "-"
    condition:
        true
}

rule meta_none { condition: true }
