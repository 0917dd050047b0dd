// A fictional file: one live rule, two commented out.
import "pe"

/*
rule hidden_in_block_comment
{
    condition:
        true
}
*/

// rule hidden_in_line_comment { condition: true }

rule live_rule : example
{
    meta:
        description = "The only rule here; braces in a string: { }"
        last_modified = "2024-02-01"
    strings:
        $a = "} not the end {" // nor is this }
    condition:
        $a and pe.number_of_sections > 1
}
