// The IPC DTOs of docs/IPC.md. Everything that crosses the IPC edge is generated from the Rust
// DTOs in src-tauri/src/dto.rs by ts-rs, and the commands from src-tauri/src/command_list.rs,
// into ./bindings/ (committed; `cargo test -p tuatara-app
// bindings` fails when they drift, and `TUATARA_UPDATE_BINDINGS=1` rewrites them). Only names
// the UI adds for itself are written here.

export type { Account } from './bindings/Account';
export type { AppInfo } from './bindings/AppInfo';
export type { DirectionDto } from './bindings/DirectionDto';
export type { DuplicateMode } from './bindings/DuplicateMode';
export type { ErrorKind } from './bindings/ErrorKind';
export type { FolderLinkDto } from './bindings/FolderLinkDto';
export type { Handle } from './bindings/Handle';
export type { IpcError } from './bindings/IpcError';
export type { LinkCheck } from './bindings/LinkCheck';
export type { LinkDto } from './bindings/LinkDto';
export type { LinkHealth } from './bindings/LinkHealth';
export type { HealthChange } from './bindings/HealthChange';
export type { LinkStatus } from './bindings/LinkStatus';
export type { LinksOpened } from './bindings/LinksOpened';
export type { LinksRechecked } from './bindings/LinksRechecked';
export type { ReceivedLink } from './bindings/ReceivedLink';
export type { SharedLinkDto } from './bindings/SharedLinkDto';
export type { SharedLinkCheck } from './bindings/SharedLinkCheck';
export type { ListFormat } from './bindings/ListFormat';
export type { Listing } from './bindings/Listing';
export type { LoginStep } from './bindings/LoginStep';
export type { NodeDto } from './bindings/NodeDto';
export type { NodeKindDto } from './bindings/NodeKindDto';
export type { Properties } from './bindings/Properties';
export type { Quota } from './bindings/Quota';
export type { QuotaWaiting } from './bindings/QuotaWaiting';
export type { RemovedDto } from './bindings/RemovedDto';
export type { Roots } from './bindings/Roots';
export type { Settings } from './bindings/Settings';
export type { SpeedWindow } from './bindings/SpeedWindow';
export type { StreamDto } from './bindings/StreamDto';
export type { StreamIntegrity } from './bindings/StreamIntegrity';
export type { StreamVerdict } from './bindings/StreamVerdict';
export type { TextPreview } from './bindings/TextPreview';
export type { TransferAction } from './bindings/TransferAction';
export type { TransferDto } from './bindings/TransferDto';
export type { TransferEvent } from './bindings/TransferEvent';
export type { TransferProgress } from './bindings/TransferProgress';
export type { TransferState } from './bindings/TransferState';
export type { TransferStateChange } from './bindings/TransferStateChange';
export type { TreeChanged } from './bindings/TreeChanged';
export type { WatchDto } from './bindings/WatchDto';
export type { WatchKindDto } from './bindings/WatchKindDto';

// The commands: names, arguments and results, generated from src-tauri/src/command_list.rs.
export type { CommandName, Commands } from './bindings/commands';
