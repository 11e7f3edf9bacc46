with

source as (

    select * from {{ source('raw', 'reports') }}

),

renamed as (

    select

        ---------- ids
        cast(report_id as varchar) as report_id,
        cast(source_sha256 as varchar) as source_sha256,
        cast(agency_id as varchar) as agency_id,

        ---------- strings
        cast(source_path as varchar) as source_path,
        cast(source_format as varchar) as source_format,
        cast(agency_name as varchar) as agency_name,
        cast(agency_name_source as varchar) as agency_name_source,
        cast(report_year_source as varchar) as report_year_source,
        cast(template_version as varchar) as template_version,
        cast(t2_version as varchar) as t2_version,
        cast(t3_version as varchar) as t3_version,
        cast(period_end_text as varchar) as period_end_text,
        cast(parse_status as varchar) as parse_status,
        cast(parser_version as varchar) as parser_version,
        cast(agency_canonical_name as varchar) as agency_canonical_name,
        cast(province as varchar) as province,
        cast(city as varchar) as city,
        cast(county as varchar) as county,
        coalesce(cast(admin_level as varchar), 'unknown') as admin_level,
        cast(agency_kind as varchar) as agency_kind,
        cast(text_source as varchar) as text_source,

        ---------- numerics
        cast(report_year as integer) as report_year,
        cast(line_count as integer) as line_count,

        ---------- booleans
        cast(has_t2 as boolean) as has_t2,
        cast(has_t3 as boolean) as has_t3,
        cast(has_t4 as boolean) as has_t4,
        cast(period_partial as boolean) as period_partial,

        ---------- dates
        cast(publication_date as date) as publication_date

    from source

)

select * from renamed
