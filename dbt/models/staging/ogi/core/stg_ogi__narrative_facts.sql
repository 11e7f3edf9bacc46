with

source as (

    select * from {{ source('raw', 'narrative_facts') }}

),

renamed as (

    select

        ---------- ids
        cast(report_id as varchar) as report_id,
        cast(metric as varchar) as metric,

        ---------- strings
        cast(unit_raw as varchar) as unit_raw,
        cast(qualifier as varchar) as qualifier,
        cast(evidence as varchar) as evidence,
        cast(locator as varchar) as locator,

        ---------- numerics
        cast(value as double) as value,

        ---------- booleans
        cast(is_zero_phrase as boolean) as is_zero_phrase

    from source

)

select * from renamed
