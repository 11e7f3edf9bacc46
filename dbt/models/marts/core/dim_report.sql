with

reports as (

    select * from {{ ref('stg_ogi__reports') }}

),

final as (

    select

        ---------- contract columns
        report_id,
        source_path,
        source_format,
        agency_name,
        agency_id,
        -- place and level from the gazetteer of administrative divisions (ingest/agency.py)
        province,
        city,
        county,
        admin_level,
        report_year,
        template_version,
        parse_status,
        parser_version,

        ---------- additions
        source_sha256,
        t2_version,
        t3_version,
        has_t2,
        has_t3,
        has_t4,
        period_partial,
        period_end_text,
        publication_date,
        agency_name_source,
        agency_canonical_name,
        agency_kind,
        report_year_source,
        line_count

    from reports

)

select * from final
