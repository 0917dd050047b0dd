rule uses_missing_string
{
    condition:
        $missing
}

rule compiles
{
    condition:
        true
}

rule unknown_function
{
    condition:
        math.no_such_function(0) == 1
}
