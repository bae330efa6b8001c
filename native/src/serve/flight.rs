//! Arrow Flight for `quiver serve`: `DoGet` with a ticket holding the same JSON as an HTTP
//! fetch body plus `"table"` (Murr 0.3's ticket), answered through the same lookup, and the
//! read-only discovery calls (`ListFlights`, `GetFlightInfo`, `GetSchema`). Everything that
//! writes or runs actions is `Unimplemented`: tables come from their source.

use std::pin::Pin;
use std::sync::Arc;

use arrow::ipc::writer::IpcWriteOptions;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::{
    Action, ActionType, Criteria, Empty, FlightData, FlightDescriptor, FlightInfo,
    HandshakeRequest, HandshakeResponse, PollInfo, PutResult, SchemaAsIpc, SchemaResult, Ticket,
};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use tonic::{Request, Response, Status, Streaming};

use super::fetch::ApiError;
use super::server::{App, Contract, lookup, ready_version, table};
use super::table::Version;

/// The Flight service over the same tables as the HTTP side.
pub struct Flight {
    pub app: Arc<App>,
}

type Stream<T> = Pin<Box<dyn futures::Stream<Item = Result<T, Status>> + Send + 'static>>;

fn status(e: &ApiError) -> Status {
    let message = format!("{}: {}", e.code, e.message);
    match e.status {
        401 => Status::unauthenticated(message),
        404 => Status::not_found(message),
        413 => Status::resource_exhausted(message),
        503 => Status::unavailable(message),
        500..=599 => Status::internal(message),
        _ => Status::invalid_argument(message),
    }
}

impl Flight {
    fn check<T>(&self, request: &Request<T>) -> Result<(), Status> {
        let given = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        if self.app.token_matches(given) {
            Ok(())
        } else {
            Err(Status::unauthenticated(
                "UNAUTHORIZED: send 'authorization: Bearer <token>' metadata",
            ))
        }
    }

    /// The table's current version, or the status the HTTP side's error maps to.
    fn version(&self, name: &str) -> Result<Version, Status> {
        table(&self.app, name)
            .and_then(|t| ready_version(&t))
            .map_err(|e| status(&e))
    }

    fn info(&self, name: &str) -> Result<FlightInfo, Status> {
        let v = self.version(name)?;
        FlightInfo::new()
            .try_with_schema(&v.schema)
            .map_err(|e| Status::internal(e.to_string()))
            .map(|i| {
                i.with_descriptor(FlightDescriptor::new_path(vec![name.to_string()]))
                    .with_total_records(v.rows() as i64)
            })
    }
}

fn descriptor_table(d: &FlightDescriptor) -> Result<&str, Status> {
    match d.path.as_slice() {
        [name] => Ok(name),
        _ => Err(Status::invalid_argument(
            "BAD_DESCRIPTOR: a descriptor's path is [table]",
        )),
    }
}

#[tonic::async_trait]
impl FlightService for Flight {
    type HandshakeStream = Stream<HandshakeResponse>;
    type ListFlightsStream = Stream<FlightInfo>;
    type DoGetStream = Stream<FlightData>;
    type DoPutStream = Stream<PutResult>;
    type DoExchangeStream = Stream<FlightData>;
    type DoActionStream = Stream<arrow_flight::Result>;
    type ListActionsStream = Stream<ActionType>;

    async fn handshake(
        &self,
        _request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<Self::HandshakeStream>, Status> {
        Err(Status::unimplemented(
            "no handshake: send the bearer token as 'authorization' metadata",
        ))
    }

    async fn list_flights(
        &self,
        request: Request<Criteria>,
    ) -> Result<Response<Self::ListFlightsStream>, Status> {
        self.check(&request)?;
        let infos: Vec<Result<FlightInfo, Status>> = self
            .app
            .tables
            .values()
            .filter(|t| t.current().is_some())
            .map(|t| self.info(&t.name))
            .collect();
        Ok(Response::new(Box::pin(stream::iter(infos))))
    }

    async fn get_flight_info(
        &self,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.check(&request)?;
        let name = descriptor_table(request.get_ref())?.to_string();
        self.info(&name).map(Response::new)
    }

    async fn poll_flight_info(
        &self,
        _request: Request<FlightDescriptor>,
    ) -> Result<Response<PollInfo>, Status> {
        Err(Status::unimplemented("use GetFlightInfo"))
    }

    async fn get_schema(
        &self,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<SchemaResult>, Status> {
        self.check(&request)?;
        let v = self.version(descriptor_table(request.get_ref())?)?;
        SchemaAsIpc::new(&v.schema, &IpcWriteOptions::default())
            .try_into()
            .map(Response::new)
            .map_err(|e: arrow::error::ArrowError| Status::internal(e.to_string()))
    }

    async fn do_get(
        &self,
        request: Request<Ticket>,
    ) -> Result<Response<Self::DoGetStream>, Status> {
        self.check(&request)?;
        let body = request.into_inner().ticket;
        let name = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("table").and_then(|t| t.as_str().map(str::to_string)))
            .ok_or_else(|| {
                Status::invalid_argument(
                    "MALFORMED_BODY: a ticket is a fetch body with \"table\": {\"table\": ..., \"keys\": ...}",
                )
            })?;
        let t = table(&self.app, &name).map_err(|e| status(&e))?;
        let (batch, _, _, _) = lookup(&t, &body, false, Contract::Quiver, self.app.limits())
            .await
            .map_err(|e| status(&e))?;
        let encoded: BoxStream<'static, Result<FlightData, Status>> =
            FlightDataEncoderBuilder::new()
                .with_schema(batch.schema())
                .build(stream::iter([Ok(batch)]))
                .map_err(|e| Status::internal(e.to_string()))
                .boxed();
        Ok(Response::new(Box::pin(encoded)))
    }

    async fn do_put(
        &self,
        _request: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoPutStream>, Status> {
        Err(Status::unimplemented(
            "READ_ONLY: tables come from their configured source",
        ))
    }

    async fn do_exchange(
        &self,
        _request: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoExchangeStream>, Status> {
        Err(Status::unimplemented("READ_ONLY: use DoGet"))
    }

    async fn do_action(
        &self,
        _request: Request<Action>,
    ) -> Result<Response<Self::DoActionStream>, Status> {
        Err(Status::unimplemented("no actions"))
    }

    async fn list_actions(
        &self,
        _request: Request<Empty>,
    ) -> Result<Response<Self::ListActionsStream>, Status> {
        Ok(Response::new(Box::pin(stream::empty())))
    }
}

/// Serves Flight on `listener` until `shutdown` resolves.
///
/// # Errors
/// tonic's, when the server cannot run.
pub async fn serve(
    app: Arc<App>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<(), String> {
    let limit = app.config.max_body.max(4 << 20);
    let service = arrow_flight::flight_service_server::FlightServiceServer::new(Flight { app })
        .max_decoding_message_size(limit);
    tonic::transport::Server::builder()
        .add_service(service)
        .serve_with_incoming_shutdown(
            tonic::transport::server::TcpIncoming::from(listener),
            shutdown,
        )
        .await
        .map_err(|e| e.to_string())
}
