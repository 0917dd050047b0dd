rule good_before
{
    condition:
        true
}

rule broken_middle
{
    strings:
        $a = "example"
    condition:
        $a and and
}

rule good_after
{
    condition:
        false
}

rule needs_broken
{
    condition:
        broken_middle or good_before
}
