//! Meta Marketing API (Graph API) adapter parts. So far: [`wire`], the one
//! place where Graph API values (numbers as strings, budgets in minor units,
//! calendar days of the ad account) become typed values. The HTTP adapter
//! behind the `AdsPlatform` port (issue 4) builds on it.

pub mod wire;
