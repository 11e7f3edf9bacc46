-- One row per distinct report document, including corrected republications and the reports they
-- replace. Supersession rule (README "Corrected republications"): among reports with the same known
-- agency_id and report_year, the current one is the one with the latest printed publication date,
-- then the one first seen latest in the landing directory, then the greatest report_id. The fact
-- marts keep current reports only; raw.* keeps every report's facts.
-- A report replaces another only on a sure identity: both agency names read from a title or a page
-- header (not from a sentence) and placed by the gazetteer. A wrong supersession deletes a report's
-- facts from the marts without a trace, so any doubt keeps both current, and supersession_note says
-- why (the run summary lists these rows).

with

reports as (

    select * from {{ ref('stg_ogi__reports') }}

),

source_files as (

    select * from {{ ref('stg_ogi__source_files') }}

),

-- when each content's rows were last (re)loaded into raw.*: part of the report's fingerprint
loads as (

    select source_sha256, parsed_at from {{ ref('stg_ogi__content_outcomes') }}

),

warning_counts as (

    select report_id, count(*) as parse_warnings

    from {{ ref('stg_ogi__parse_warnings') }}

    group by report_id

),

first_seen as (

    select
        report_id,
        min(first_seen_at) as first_seen_at

    from source_files

    where report_id is not null

    group by report_id

),

with_first_seen as (

    select
        reports.*,
        first_seen.first_seen_at,
        -- reports without a known agency or year cannot be matched to a republication
        agency_id is not null and report_year is not null as has_key,
        agency_id is not null
        and report_year is not null
        and agency_name_source in ('title', 'metadata')
        and (province is not null or admin_level = 'central') as is_matchable

    from reports

    left join first_seen
        on reports.report_id = first_seen.report_id

),

editions as (

    select
        *,
        case
            when is_matchable then row_number() over (
                partition by agency_id, is_matchable, report_year
                order by
                    publication_date asc nulls first,
                    first_seen_at asc nulls first,
                    report_id asc
            )
            else 1
        end as edition,
        case
            when is_matchable then count(*) over (partition by agency_id, is_matchable, report_year)
            else 1
        end as edition_count,
        case
            when has_key then count(*) over (partition by agency_id, report_year)
            else 1
        end as same_key_count,
        case
            when is_matchable then last_value(report_id) over (
                partition by agency_id, is_matchable, report_year
                order by
                    publication_date asc nulls first,
                    first_seen_at asc nulls first,
                    report_id asc
                rows between unbounded preceding and unbounded following
            )
            else report_id
        end as current_report_id

    from with_first_seen

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

        ---------- supersession
        report_id = current_report_id as is_current,
        case
            when report_id <> current_report_id then current_report_id
        end as superseded_by_report_id,
        edition,
        edition_count,
        is_matchable as has_sure_identity,
        case
            when same_key_count > edition_count and not is_matchable then
                'kept current: ' || (same_key_count - 1)::varchar
                || ' other report(s) share its agency key and year, but its agency name was not read from '
                || 'a title or page header placed by the gazetteer, so it neither replaces nor is replaced'
            when same_key_count > edition_count then
                'kept apart from ' || (same_key_count - edition_count)::varchar
                || ' report(s) with the same agency key and year whose identity is not sure'
        end as supersession_note,

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
        first_seen_at,
        agency_name_source,
        agency_canonical_name,
        agency_kind,
        text_source,
        report_year_source,
        line_count

    from editions

),

fingerprinted as (

    select
        final.*,
        -- what the incremental fact marts depend on (macros/incremental_by_report.sql): this whole
        -- row (currency, year, agency, template, tables present ...), when the report's raw rows
        -- were last loaded, and its parse warning count (a load-time repair adds one)
        md5(
            cast(final as varchar)
            || '|' || coalesce(cast(loads.parsed_at as varchar), '')
            || '|' || cast(coalesce(warning_counts.parse_warnings, 0) as varchar)
        ) as report_fingerprint

    from final

    left join loads
        on final.source_sha256 = loads.source_sha256

    left join warning_counts
        on final.report_id = warning_counts.report_id

)

select * from fingerprinted
