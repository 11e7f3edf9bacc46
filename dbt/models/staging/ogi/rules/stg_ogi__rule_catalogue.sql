with

source as (

    select * from {{ source('raw_rules', 'rule_catalogue') }}

),

renamed as (

    select

        ---------- ids
        cast(rule_id as varchar) as rule_id,
        cast(identity_id as varchar) as identity_id,

        ---------- strings
        cast(rule_family as varchar) as rule_family,
        cast(severity as varchar) as severity,
        cast(template_version as varchar) as template_version,
        cast(scope as varchar) as scope,
        cast(formula as varchar) as formula,
        cast(rationale as varchar) as rationale,
        cast(expectation as varchar) as expectation,
        cast(note as varchar) as note,

        ---------- booleans
        cast(is_evaluated as boolean) as is_evaluated

    from source

)

select * from renamed
