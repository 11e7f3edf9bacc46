with

source as (

    select * from {{ source('raw', 'landed_files') }}

),

renamed as (

    select

        ---------- ids
        cast(source_path as varchar) as source_path,
        cast(source_sha256 as varchar) as source_sha256,

        ---------- strings
        cast(source_format as varchar) as source_format,

        ---------- numerics
        cast(bytes as bigint) as bytes,

        ---------- booleans
        cast(is_present as boolean) as is_present,

        ---------- timestamps
        cast(first_seen_at as timestamptz) as first_seen_at,
        cast(last_seen_at as timestamptz) as last_seen_at

    from source

)

select * from renamed
