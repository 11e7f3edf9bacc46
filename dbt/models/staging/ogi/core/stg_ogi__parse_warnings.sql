with

source as (

    select * from {{ source('raw', 'parse_warnings') }}

),

renamed as (

    select

        ---------- ids
        cast(report_id as varchar) as report_id,
        cast(source_sha256 as varchar) as source_sha256,
        cast(table_id as varchar) as table_id,
        cast(row_key as varchar) as row_key,

        ---------- strings
        cast(code as varchar) as code,
        cast(severity as varchar) as severity,
        cast(detail as varchar) as detail,
        cast(raw_text as varchar) as raw_text,
        cast(locator as varchar) as locator

    from source

)

select * from renamed
