//! `[control_tower]`, `[control."ID"]`, `[guardrails.PRESET]`, `[portfolio.NAME]`,
//! `sso_user` and `account_factory`: Control Tower governance and Service Catalog
//! sharing, checked against the control catalogue (`controls.rs`, `data/controls.toml`)
//! and the declared OUs and accounts.
//!
//! One submodule per part: `control_tower` (the section and the settings other
//! checks read), `account_factory` (`account_factory` and `sso_user`), `controls`
//! (declared controls and presets on OUs), `control_id` (which catalogue control a
//! declaration names), `parameters` (control parameters), `portfolios` and
//! `shares`.

mod account_factory;
mod control_id;
mod control_tower;
mod controls;
mod parameters;
mod portfolios;
mod shares;
