rule first_ok
{
    condition:
        true
}

rule missing_brace
{
    condition:
        true

rule swallowed_one
{
    condition:
        false
}

private rule swallowed_two
{
    condition:
        true
}

rule after_ok
{
    condition:
        swallowed_two
}
}
}
