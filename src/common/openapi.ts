import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** GET /docs (Swagger UI, served from the package: no CDN) and GET /docs-json. */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('AOL control plane')
    .setDescription(
      'Event-sourced control plane for the autonomous marketing worker. Every write is an event in aol_events. ' +
        'Errors are {statusCode, error, message, request_id}. Roles: viewer < operator < admin (AOL_API_TOKENS).',
    )
    .setVersion('1')
    .addBearerAuth()
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
