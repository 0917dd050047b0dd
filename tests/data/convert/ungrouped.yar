// A fictional YARA file whose rule names no report.
rule Lonely_Rule
{
    strings:
        $s = "lonely-rule"
    condition:
        $s
}
