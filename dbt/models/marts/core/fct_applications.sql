-- 表三: applications by outcome (row_key) and applicant type.
-- Grain: report_id x row_key x applicant_type x source.
{{
    config(
        materialized='incremental',
        incremental_strategy='ogi_report_replace',
        post_hook="{{ ogi_record_report_state() }}",
    )
}}

with

reports as (

    select * from {{ ref('dim_report') }}

    -- superseded editions stay in raw.* and dim_report only
    where
        is_current
        -- incremental build: the reports whose rows are replaced (every report on a full build)
        and {{ ogi_rebuilt('report_id') }}

),

-- NOT MATERIALIZED: this CTE is read twice (table_rows, the narrative fallback) and table_rows
-- three times (other_leaves, the printed 其他处理 lookup, unioned); DuckDB otherwise stores each in
-- full (13.7 million rows with their text at 100,000 reports) and scans the stored copy every time.
-- Inlined, each read keeps only its own columns and filters. This model's SQL alone on a
-- 100,000-report warehouse: 20.5-21.0 s -> 12.1 s, the same rows (README, Performance: seventh round).
table_cells as not materialized (

    select * from {{ ref('stg_ogi__table_cells') }}

    where
        table_id = 't3'
        and report_id in (select report_id from reports)

),

narrative_facts as (

    select * from {{ ref('stg_ogi__narrative_facts') }}

    where
        report_id in (select report_id from reports)
        and metric in (
            'requests_received_total',
            'requests_processed_total',
            'requests_carried_to_next'
        )

),

row_keys as (

    select * from {{ ref('stg_ogi__ref_row_keys') }}

    where table_id = 't3'

),

-- one row per row_key, whatever the version: the fallback when the row's own version has none
-- (narrative rows, and other_processing derived in v2021 tables)
row_keys_any_version as (

    select * from row_keys

    qualify row_number() over (
        partition by row_key
        order by template_version asc nulls last
    ) = 1

),

table_rows as not materialized (

    select
        report_id,
        template_version,
        row_key,
        col_key as applicant_type,
        value,
        cell_state,
        raw_text,
        coalesce(is_derived, false) as is_derived,
        false as is_approximate,
        'table' as source,
        locator

    from table_cells

),

-- v2021 splits (六)其他处理 into three leaves; other_processing is kept as their sum
other_leaves as (

    select * from table_rows

    where
        template_version = 'v2021'
        and row_key in (
            'other_no_correction_overdue',
            'other_fee_unpaid_overdue',
            'other_misc'
        )

),

derived_other_processing as (

    select
        other_leaves.report_id,
        'v2021' as template_version,
        'other_processing' as row_key,
        other_leaves.applicant_type,
        sum(other_leaves.value) as value,
        case
            when bool_or(other_leaves.cell_state = 'number') then 'number'
            when
                count(distinct other_leaves.cell_state) = 1
                and count(other_leaves.cell_state) = count(*)
                then min(other_leaves.cell_state)
            when count(other_leaves.value) > 0 then 'number'
            else 'blank'
        end as cell_state,
        cast(null as varchar) as raw_text,
        true as is_derived,
        false as is_approximate,
        'table' as source,
        'derived: sum of other_no_correction_overdue, '
        || 'other_fee_unpaid_overdue, other_misc' as locator

    from other_leaves

    -- a v2021 table that still prints a number on the (六) line keeps the printed row
    where not exists (
        select 1
        from table_rows as printed
        where
            printed.report_id = other_leaves.report_id
            and printed.applicant_type = other_leaves.applicant_type
            and printed.row_key = 'other_processing'
    )

    group by
        other_leaves.report_id,
        other_leaves.applicant_type

),

narrative_rows as (

    select
        narrative_facts.report_id,
        reports.template_version,
        case narrative_facts.metric
            when 'requests_received_total' then 'new_received'
            when 'requests_processed_total' then 'total_processed'
            when 'requests_carried_to_next' then 'carried_to_next_year'
        end as row_key,
        'total' as applicant_type,
        narrative_facts.value,
        case
            when narrative_facts.value is null then 'text' else 'number'
        end as cell_state,
        case
            when narrative_facts.value = floor(narrative_facts.value)
                then cast(cast(narrative_facts.value as bigint) as varchar)
            else cast(narrative_facts.value as varchar)
        end as raw_text,
        false as is_derived,
        coalesce(narrative_facts.qualifier <> 'exact', false)
            as is_approximate,
        'narrative' as source,
        narrative_facts.locator

    from narrative_facts

    inner join reports
        on narrative_facts.report_id = reports.report_id

    -- one figure per cell: a report with a 表三 (flagged, or with any cell) keeps its narrative
    -- figures in fct_narrative_metrics only, where the narrative-vs-table rules read them
    where
        not coalesce(reports.has_t3, false)
        and not exists (
            select 1
            from table_cells
            where table_cells.report_id = narrative_facts.report_id
        )

    -- a metric stated twice in one report: keep the first statement
    qualify row_number() over (
        partition by narrative_facts.report_id, narrative_facts.metric
        order by
            try_cast(
                regexp_extract(narrative_facts.locator, '[0-9]+') as integer
            ) asc nulls last,
            narrative_facts.locator asc,
            narrative_facts.value asc
    ) = 1

),

unioned as (

    select * from table_rows
    union all
    select * from derived_other_processing
    union all
    select * from narrative_rows

),

final as (

    select

        ---------- contract columns
        unioned.report_id,
        reports.report_year,
        reports.agency_id,
        unioned.template_version,
        unioned.row_key,
        case
            when versioned.row_key is not null then versioned.row_group
            else any_version.row_group
        end as row_group,
        case
            when versioned.row_key is not null then versioned.outcome_category
            else any_version.outcome_category
        end as outcome_category,
        unioned.applicant_type,
        cast(unioned.value as bigint) as value,
        unioned.cell_state,
        unioned.raw_text,
        unioned.is_derived,
        unioned.source,
        unioned.locator,
        case
            when versioned.row_key is not null then versioned.sort_order
            else any_version.sort_order
        end as sort_order,

        ---------- additions
        case
            when versioned.row_key is not null then versioned.label_zh
            else any_version.label_zh
        end as row_label_zh,
        unioned.is_approximate,
        -- issue 13: the OCR recognition score the front end put in the locator; NULL for printed text
        {{ ogi_locator_ocr_confidence('unioned.locator') }} as ocr_confidence

    from unioned

    inner join reports
        on unioned.report_id = reports.report_id

    left join row_keys as versioned
        on
            unioned.row_key = versioned.row_key
            and unioned.template_version = versioned.template_version

    left join row_keys_any_version as any_version
        on unioned.row_key = any_version.row_key

)

select * from final
