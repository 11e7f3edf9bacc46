with

source as (

    select * from {{ source('raw', 'rule_results') }}

),

renamed as (

    select

        ---------- ids
        cast(report_id as varchar) as report_id,
        cast(rule_id as varchar) as rule_id,
        cast(identity_id as varchar) as identity_id,

        ---------- strings
        cast(rule_family as varchar) as rule_family,
        cast(severity as varchar) as severity,
        cast(status as varchar) as status,
        cast(detail as varchar) as detail,
        cast(expectation as varchar) as expectation,

        ---------- numerics
        cast(lhs as double) as lhs,
        cast(rhs as double) as rhs

    from source

)

select * from renamed
