with

reports as (

    select * from {{ ref('dim_report') }}

    -- a superseded edition says nothing about the agency the current one does not
    where agency_id is not null and is_current

),

latest_report as (

    select
        agency_id,
        agency_name,
        agency_canonical_name,
        province,
        city,
        county,
        admin_level,
        agency_kind

    from reports

    qualify row_number() over (
        partition by agency_id
        order by
            report_year desc nulls last,
            publication_date desc nulls last,
            report_id asc
    ) = 1

),

report_stats as (

    select
        agency_id,
        string_agg(
            distinct agency_name, '; ' order by agency_name
        ) as name_variants,
        count(distinct agency_name) as name_variant_count,
        min(report_year) as first_report_year,
        max(report_year) as last_report_year,
        count(distinct report_id) as report_count

    from reports

    group by agency_id

),

final as (

    select

        latest_report.agency_id,
        coalesce(latest_report.agency_canonical_name, latest_report.agency_name)
            as canonical_name,
        latest_report.agency_name,
        report_stats.name_variants,
        latest_report.province,
        latest_report.city,
        latest_report.county,
        coalesce(latest_report.admin_level, 'unknown') as admin_level,
        latest_report.agency_kind,
        report_stats.first_report_year,
        report_stats.last_report_year,
        report_stats.report_count,
        report_stats.name_variant_count

    from latest_report

    inner join report_stats
        on latest_report.agency_id = report_stats.agency_id

)

select * from final
